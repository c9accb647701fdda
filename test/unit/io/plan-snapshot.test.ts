import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../src/domain/errors.ts';
import { parsePlanSnapshot, readPlanSnapshot } from '../../../src/io/plan-snapshot.ts';

const EXAMPLE = 'docs/examples/plan-snapshot.json';
const FILE = 'snap.json';

function example(): Record<string, unknown> {
  return JSON.parse(readFileSync(EXAMPLE, 'utf8'));
}

function errorOf(document: unknown, text?: string): InputValidationError {
  try {
    parsePlanSnapshot(text ?? JSON.stringify(document), FILE);
  } catch (error) {
    if (error instanceof InputValidationError) return error;
    throw error;
  }
  throw new Error('expected an InputValidationError');
}

describe('plan snapshot', () => {
  it('reads the example into a PlannerInput', async () => {
    const input = await readPlanSnapshot(EXAMPLE);
    expect(input.nowMs).toBe(Date.parse('2026-03-02T12:00:00Z'));
    expect(input.stepSeconds).toBe(300);
    expect(input.partitions.length).toBeGreaterThan(5);
    expect(input.cellStatus).toEqual({ 'use1-new': 'PROVISIONING' });
    const cooling = input.partitions.find((p) => p.id === 'ads-eu');
    expect(cooling?.lastMovedAtMs).toBe(Date.parse('2026-03-02T10:30:00Z'));
    expect(input.limits?.maxConcurrentMovesPerCell).toBe(4);
  });

  it('uses the given clock when the snapshot has no "now"', () => {
    const doc = example();
    delete doc.now;
    expect(parsePlanSnapshot(JSON.stringify(doc), FILE, { nowMs: 42 }).nowMs).toBe(42);
  });

  it('names the file and the field path of a bad forecast value', () => {
    const doc = example() as { partitions: { forecast: Record<string, number[]> }[] };
    doc.partitions[3].forecast['us-east-1'][5] = -1;
    const error = errorOf(doc);
    expect(error.location).toEqual({ file: FILE, field: 'partitions[3].forecast.us-east-1[5]' });
  });

  it('rejects forecast arrays of unequal length, naming the first one that differs', () => {
    const doc = example() as { partitions: { forecast: Record<string, number[]> }[] };
    doc.partitions[2].forecast['us-east-1'].pop();
    const error = errorOf(doc);
    expect(error.location.field).toBe('partitions[2].forecast.us-east-1');
    expect(error.message).toContain('expected 12 like partitions[0].forecast.eu-west-1');
  });

  it('accepts forecastUpper and checks its length and regions like the forecast', () => {
    const doc = example() as {
      partitions: { forecast: Record<string, number[]>; forecastUpper?: unknown }[];
    };
    const upper = Object.fromEntries(
      Object.entries(doc.partitions[1].forecast).map(([r, v]) => [r, v.map((x) => 2 * x)]),
    );
    doc.partitions[1].forecastUpper = upper;
    const input = parsePlanSnapshot(JSON.stringify(doc), FILE);
    expect(input.partitions[1].forecastUpper).toEqual(upper);
    expect(input.partitions[0].forecastUpper).toBeUndefined();
    const [region, values] = Object.entries(upper)[0];
    doc.partitions[1].forecastUpper = { [region]: values.slice(1) };
    expect(errorOf(doc).location.field).toBe(`partitions[1].forecastUpper.${region}`);
    doc.partitions[1].forecastUpper = { mars: values };
    expect(errorOf(doc).message).toContain("unknown region 'mars'");
  });

  it('lists the known cells and regions when one is unknown', () => {
    const doc = example() as { partitions: { cell: string; forecast: Record<string, number[]> }[] };
    doc.partitions[1].cell = 'use1-z';
    const cellError = errorOf(doc);
    expect(cellError.location.field).toBe('partitions[1].cell');
    expect(cellError.message).toContain('expected one of use1-a, use1-b, use1-new, euw1-a, apne1-a');

    const regionDoc = example() as { partitions: { forecast: Record<string, number[]> }[] };
    regionDoc.partitions[0].forecast['sa-east-1'] = Array(12).fill(1);
    const regionError = errorOf(regionDoc);
    expect(regionError.location.field).toBe('partitions[0].forecast.sa-east-1');
    expect(regionError.message).toContain('expected one of us-east-1, eu-west-1, ap-northeast-1');
  });

  it('checks relationships, in-flight moves and cell statuses against the partitions and cells', () => {
    const rel = example() as { relationships: { a: string }[] };
    rel.relationships[0].a = 'ghost';
    expect(errorOf(rel).location.field).toBe('relationships[0].a');
    const flight = example() as { inFlight: { to: string }[] };
    flight.inFlight[0].to = 'mars-1';
    expect(errorOf(flight).location.field).toBe('inFlight[0].to');
    const status = example() as { cellStatus: Record<string, string> };
    status.cellStatus['use1-q'] = 'DRAINING';
    expect(errorOf(status).location.field).toBe('cellStatus.use1-q');
    const badStatus = example() as { cellStatus: Record<string, string> };
    badStatus.cellStatus['use1-new'] = 'GONE';
    expect(errorOf(badStatus).location.field).toBe('cellStatus.use1-new');
  });

  it('roots topology errors under "topology." and rejects unknown top-level fields', () => {
    const doc = example() as { topology: { cells: { region: string }[] } };
    doc.topology.cells[2].region = 'nowhere';
    expect(errorOf(doc).location.field).toBe('topology.cells[2].region');
    const extra = { ...example(), surprise: 1 };
    expect(errorOf(extra).location.file).toBe(FILE);
  });

  it('reports a JSON syntax error with the file and line', () => {
    const text = '{\n  "stepSeconds": 300,\n  "partitions": [,]\n}';
    const error = errorOf(undefined, text);
    expect(error.location).toEqual({ file: FILE, line: 3 });
    expect(error.message).toContain('invalid JSON');
  });
});
