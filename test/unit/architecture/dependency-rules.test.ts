import { describe, expect, it } from 'vitest';
import {
  checkFile,
  checkRepository,
  importSpecifiers,
  layerOf,
  lex,
  REPOSITORY_ROOT,
} from '../../support/dependency-rules.ts';

/** The layering of docs/architecture.md, checked over the import graph of src/ and functions/. */

describe('dependency rules of src/ and functions/', () => {
  it('hold: no upward import, no SDK or CDK where it does not belong, no process.env or clock in the domain', () => {
    const { files, imports, violations } = checkRepository(REPOSITORY_ROOT);
    // The walk found the code (a wrong root would pass vacuously).
    expect(files).toBeGreaterThan(200);
    expect(imports).toBeGreaterThan(500);
    expect(violations).toEqual([]);
  });
});

describe('the checker', () => {
  it('flags the upward edges of a synthetic domain file: an adapter, the SDK, process.env, the clock', () => {
    const source = [
      "import type { PlanMeta } from '../../adapters/dynamodb/plan-repository.ts';",
      "import { SNSClient } from '@aws-sdk/client-sns';",
      "import { planMoves } from './placement-planner.ts';",
      'export const region = process.env.AWS_REGION;',
      'export const stamp = () => Date.now();',
      'export const today = () => new Date();',
      'export const fixed = new Date(0);',
    ].join('\n');
    expect(checkFile('src/domain/planning/bad.ts', source).map((v) => v.rule)).toEqual([
      'domain must not import adapters (../../adapters/dynamodb/plan-repository.ts)',
      'the domain imports only zod and highs (@aws-sdk/client-sns)',
      'domain reads process.env',
      'domain reads the wall clock (Date.now())',
      'domain reads the wall clock (new Date())',
    ]);
  });

  it('flags adapters importing use cases, use cases importing adapters or the SDK, and anyone importing tools', () => {
    expect(
      checkFile('src/adapters/dynamodb/x.ts', "import { mapBounded } from '../../migration/catch-up.ts';"),
    ).toEqual([
      {
        file: 'src/adapters/dynamodb/x.ts',
        rule: 'adapters must not import use-cases (../../migration/catch-up.ts)',
      },
    ]);
    expect(
      checkFile(
        'src/execute-plan/x.ts',
        [
          'import {',
          '  DynamoPlanRepository,',
          '  type PlanMeta,',
          "} from '../adapters/dynamodb/plan-repository.ts';",
          "const sfn = await import('@aws-sdk/client-sfn');",
        ].join('\n'),
      ).map((v) => v.rule),
    ).toEqual([
      'use-cases must not import adapters (../adapters/dynamodb/plan-repository.ts)',
      'use cases reach AWS through ports, never the SDK (@aws-sdk/client-sfn)',
    ]);
    expect(checkFile('src/scaling/x.ts', "import '../lambda/aws-scale-cluster-deps.ts';")).toHaveLength(1);
    expect(
      checkFile('functions/x/handler.ts', "export { serve } from '../../src/local/local-server.ts';"),
    ).toHaveLength(1);
    expect(checkFile('src/newfolder/x.ts', '')[0].rule).toMatch(/is in no layer/);
  });

  it('allows the downward edges', () => {
    expect(
      checkFile(
        'src/lambda/aws-x.ts',
        [
          "import { SNSClient } from '@aws-sdk/client-sns';",
          "import { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';",
          "import type { ExecutePlanDeps } from '../execute-plan/execute-plan-deps.ts';",
          "import { powertoolsMetricsSink } from './instrumented-handler.ts';",
          'const region = process.env.AWS_REGION;',
        ].join('\n'),
      ),
    ).toEqual([]);
    expect(
      checkFile(
        'src/execute-plan/x.ts',
        "import { instrumentedHandler } from '../lambda/instrumented-handler.ts';\nimport { z } from 'zod';",
      ),
    ).toEqual([]);
    expect(
      checkFile(
        'src/local/x.ts',
        "import { ExecutePlanWorkflow } from '../../lib/execute-plan-workflow.ts';",
      ),
    ).toEqual([]);
  });

  it('reads no import out of a comment, a string or a template, and no process.env out of a string', () => {
    const source = [
      '/**',
      " * import { x } from '../../adapters/a.ts';",
      ' */',
      "// import '../../adapters/b.ts';",
      "const url = 'http://example.com/*not a comment*/';",
      'const pattern = /\\/\\*/g;',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source under test holds a template literal
      "const message = `process.env is never read here, ${url.replace(/'/g, '')} from '../../adapters/c.ts'`;",
      "import { kept } from './kept.ts';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(['./kept.ts']);
    expect(checkFile('src/domain/x.ts', `${source}\nconst said = 'process.env';`)).toEqual([]);
    expect(lex('a / b / c').code).toBe('a / b / c');
  });

  it('gives every folder of src/ a layer, and the Lambda runtime file its own', () => {
    expect(layerOf('src/support/bounded-parallel.ts')).toBe('support');
    expect(layerOf('src/lambda/instrumented-handler.ts')).toBe('lambda-runtime');
    expect(layerOf('src/lambda/aws-planner-deps.ts')).toBe('lambda-wiring');
    expect(layerOf('src/data-plane/routing-client.ts')).toBe('use-cases');
    expect(layerOf('lib/app.ts')).toBe('cdk-app');
    expect(layerOf('test/unit/x.test.ts')).toBeUndefined();
  });
});
