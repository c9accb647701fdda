import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../src/domain/errors.ts';
import { jsonErrorOffset, parseTopologyJson } from '../../../src/io/topology-json.ts';

const valid = {
  regions: { us: { utcOffsetHours: -5 }, eu: { utcOffsetHours: 0 } },
  latencyMs: { us: { eu: 80 } },
  transferCostPerGB: 0.02,
  migrationBandwidthBytesPerSec: 1e6,
  cells: [{ id: 'us-a', region: 'us', capacityOpsPerSec: 100, capacityBytes: 1e9 }],
};

function failure(text: string): InputValidationError {
  try {
    parseTopologyJson(text, 'topo.json');
  } catch (error) {
    expect(error).toBeInstanceOf(InputValidationError);
    return error as InputValidationError;
  }
  throw new Error('expected an InputValidationError');
}

describe('parseTopologyJson', () => {
  it('parses and validates a topology', () => {
    const topology = parseTopologyJson(JSON.stringify(valid), 'topo.json');
    expect(topology.cells[0].id).toBe('us-a');
    expect(topology.scalingEvents).toEqual([]);
  });

  it('names the file and line of a JSON syntax error', () => {
    const error = failure('{\n  "regions": {},\n  "cells": [,]\n}\n');
    expect(error.location).toEqual({ file: 'topo.json', line: 3 });
    expect(error.message).toMatch(/^topo.json, line 3: invalid JSON/);
  });

  it('names the field of a schema error', () => {
    const bad = { ...valid, cells: [{ ...valid.cells[0], region: 'mars' }] };
    const error = failure(JSON.stringify(bad));
    expect(error.location).toEqual({ file: 'topo.json', field: 'cells[0].region' });
  });
});

describe('jsonErrorOffset', () => {
  it('finds nothing wrong in valid JSON and the first bad character otherwise', () => {
    expect(jsonErrorOffset('{"a": [1, 2.5e3, "x\\"y", true, null, {}]}')).toBeUndefined();
    expect(jsonErrorOffset('{"a": [,]}')).toBe(7);
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset('{"a": 1} x')).toBe(9);
  });
});
