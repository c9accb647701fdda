import {
  InternalFailure,
  ModelError,
  ModelNotReadyException,
  ServiceUnavailable,
  ValidationError,
} from '@aws-sdk/client-sagemaker-runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  callWithRetry,
  DEFAULT_RETRY_POLICY,
  isRetryableInvokeError,
} from '../../../../src/adapters/sagemaker/invoke-retry.ts';
import { assertProperty } from '../../../support/property.ts';

const meta = { $metadata: {} };

describe('isRetryableInvokeError', () => {
  it('retries throttling, server faults and busy model containers; not client errors', () => {
    const modelError = (status: number) =>
      new ModelError({ message: 'm', $metadata: {}, OriginalStatusCode: status } as never);
    const cases: [unknown, boolean][] = [
      [Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), true],
      [new ServiceUnavailable({ message: 'x', ...meta }), true],
      [new InternalFailure({ message: 'x', ...meta }), true],
      [new ModelNotReadyException({ message: 'x', ...meta }), true],
      [modelError(429), true],
      [modelError(503), true],
      [modelError(400), false],
      [modelError(404), false],
      [new ValidationError({ message: 'Endpoint x not found', ...meta }), false],
      [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), true],
      [Object.assign(new SyntaxError('bad'), { $metadata: { httpStatusCode: 502 } }), true],
      [Object.assign(new Error('teapot'), { $metadata: { httpStatusCode: 418 } }), false],
      [new Error('plain'), false],
      ['string', false],
      [undefined, false],
    ];
    for (const [error, expected] of cases)
      expect([error, isRetryableInvokeError(error)]).toEqual([error, expected]);
  });
});

describe('backoffDelayMs', () => {
  it('is full jitter under a doubling cap bounded by maxDelayMs', () => {
    assertProperty(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (retry, r) => {
          const cap = Math.min(
            DEFAULT_RETRY_POLICY.maxDelayMs,
            DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (retry - 1),
          );
          const delay = backoffDelayMs(retry, DEFAULT_RETRY_POLICY, () => r);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(cap);
          expect(delay).toBe(Math.floor(r * cap));
        },
      ),
    );
  });
});

describe('callWithRetry', () => {
  const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

  it('stops after maxAttempts and reports the last error', async () => {
    let calls = 0;
    const sleeps: number[] = [];
    const outcome = await callWithRetry(
      async () => {
        calls++;
        throw throttle();
      },
      { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 40 },
      { sleep: async (ms) => void sleeps.push(ms), random: () => 0.999 },
    );
    expect(outcome).toMatchObject({ ok: false, attempts: 5 });
    expect(calls).toBe(5);
    expect(sleeps).toEqual([9, 19, 39, 39]);
  });

  it('returns at once on a non-transient error', async () => {
    let calls = 0;
    const outcome = await callWithRetry(
      async () => {
        calls++;
        throw new ValidationError({ message: 'no such endpoint', ...meta });
      },
      DEFAULT_RETRY_POLICY,
      { sleep: async () => undefined, random: Math.random },
    );
    expect(outcome).toMatchObject({ ok: false, attempts: 1 });
    expect(calls).toBe(1);
  });

  it('returns the value of the first successful attempt', async () => {
    let calls = 0;
    const outcome = await callWithRetry(
      async () => {
        if (++calls < 3) throw throttle();
        return 'ok';
      },
      DEFAULT_RETRY_POLICY,
      { sleep: async () => undefined, random: Math.random },
    );
    expect(outcome).toEqual({ ok: true, value: 'ok', attempts: 3 });
  });
});
