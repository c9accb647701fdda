import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildPrestageApp, type PrestageStacks } from '../../../lib/prestage-app.ts';
import { type PrestageConfig, parsePrestageConfig } from '../../../lib/prestage-config.ts';
import { addSecurityChecks } from '../../../lib/security-checks.ts';

export const CDK_CONTEXT = JSON.parse(readFileSync('cdk.json', 'utf8')).context as Record<string, unknown>;

export interface SynthesizedPrestage {
  readonly config: PrestageConfig;
  readonly stacks: PrestageStacks;
  readonly controlPlane: Template;
  readonly dataStacks: ReadonlyMap<string, Template>;
  /** Each data region's edge stack (its interceptor), by region. */
  readonly edgeStacks: ReadonlyMap<string, Template>;
}

/**
 * The whole app synthesized once (per test file) with the cdk-nag packs, as `cdk synth` runs it, but without
 * bundling the Lambdas (`aws:cdk:bundling-stacks: []`, what `cdk synth --exclusively` uses to skip assets):
 * bundling has its own test and bench. A finding fails the synth, so a successful synth is zero findings.
 */
export function synthesizePrestage(context: Record<string, unknown> = CDK_CONTEXT): SynthesizedPrestage {
  const outdir = mkdtempSync(join(tmpdir(), 'prestage-synth-'));
  // Removed here rather than by a test hook: this runs in describe bodies, hooks and tests alike, and what it
  // returns needs nothing on disk (Template.fromJSON holds the parsed templates).
  try {
    return synthesizeInto(outdir, context);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function synthesizeInto(outdir: string, context: Record<string, unknown>): SynthesizedPrestage {
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  addSecurityChecks(app);
  const config = parsePrestageConfig(context);
  const stacks = buildPrestageApp(app, config, '123456789012');
  let assembly: ReturnType<App['synth']>;
  try {
    assembly = app.synth();
  } catch (error) {
    const report = join(outdir, 'policy-validation-report.json');
    if (existsSync(report)) {
      const parsed = JSON.parse(readFileSync(report, 'utf8')) as {
        pluginReports: {
          violations: { ruleName: string; violatingResources: { constructPath?: string }[] }[];
        }[];
      };
      const violations = parsed.pluginReports.flatMap((r) =>
        r.violations.map((v) => ({
          ruleName: v.ruleName,
          paths: v.violatingResources.map((x) => x.constructPath ?? ''),
        })),
      );
      throw new Error(
        `synth failed with ${violations.length} cdk-nag finding(s): ${JSON.stringify(violations, null, 1)}`,
      );
    }
    throw error;
  }
  const template = (name: string) => Template.fromJSON(assembly.getStackByName(name).template);
  return {
    config,
    stacks,
    controlPlane: template(stacks.controlPlane.stackName),
    dataStacks: new Map([...stacks.dataStacks].map(([region, stack]) => [region, template(stack.stackName)])),
    edgeStacks: new Map([...stacks.edgeStacks].map(([region, stack]) => [region, template(stack.stackName)])),
  };
}
