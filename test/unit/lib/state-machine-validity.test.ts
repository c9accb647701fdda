import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeMigrationAsl } from '../../../src/local/migration-asl.ts';
import { type SynthesizedPrestage, synthesizePrestage } from './prestage-synth.ts';

const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

type CfnValue = string | number | boolean | CfnValue[] | { [key: string]: CfnValue };

/**
 * A deployed definition with every CloudFormation intrinsic replaced by a well-formed placeholder of the
 * right kind (the values only exist at deploy time); the structure is the exact synthesized document.
 */
function definitionOf(definitionString: CfnValue): unknown {
  const placeholder = (intrinsic: Record<string, CfnValue>): string => {
    const key = Object.keys(intrinsic)[0];
    const target = JSON.stringify(intrinsic[key]);
    if (/StateMachine|ExecutePlan|MigratePartition|ScaleCluster/.test(target))
      return 'arn:aws:states:us-east-1:123456789012:stateMachine:placeholder';
    if (/Topic/.test(target)) return 'arn:aws:sns:us-east-1:123456789012:placeholder';
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': 'us-east-1',
      'AWS::AccountId': '123456789012',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (key === 'Ref' && typeof intrinsic.Ref === 'string' && pseudo[intrinsic.Ref])
      return pseudo[intrinsic.Ref];
    return 'arn:aws:lambda:us-east-1:123456789012:function:placeholder';
  };
  const resolve = (value: CfnValue): string => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (Array.isArray(value)) throw new Error(`unexpected list in a definition: ${JSON.stringify(value)}`);
    const join = value['Fn::Join'] as [string, CfnValue[]] | undefined;
    if (join) return join[1].map(resolve).join(join[0]);
    return placeholder(value);
  };
  return JSON.parse(resolve(definitionString));
}

describe('every synthesized state machine definition passes asl-validator', () => {
  let synthesized: SynthesizedPrestage;
  beforeAll(() => {
    synthesized = synthesizePrestage();
  }, 120_000);

  it('validates ExecutePlan, MigratePartition and ScaleCluster as the control-plane stack deploys them', () => {
    const machines = synthesized.controlPlane.findResources('AWS::StepFunctions::StateMachine');
    const checked: string[] = [];
    for (const [logicalId, resource] of Object.entries(machines)) {
      const definition = definitionOf(
        (resource as { Properties: { DefinitionString: CfnValue } }).Properties.DefinitionString,
      );
      const result = aslValidator(definition);
      expect(result.errorsText(), logicalId).toBe('');
      expect(result.isValid, logicalId).toBe(true);
      checked.push(logicalId);
    }
    for (const name of ['ExecutePlan', 'MigratePartition', 'ScaleCluster'])
      expect(checked.some((id) => id.startsWith(name))).toBe(true);
  });

  it('validates the MigratePartition definition the local runs execute, and rejects a broken one', () => {
    const asl = synthesizeMigrationAsl();
    expect(aslValidator(asl).isValid).toBe(true);
    const broken = { ...asl, States: { ...asl.States, Acquire: { ...asl.States.Acquire, Next: 'Nowhere' } } };
    expect(aslValidator(broken).isValid).toBe(false);
  });
});
