import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';

/**
 * The Authorization header a GetItem leaves with, captured after the SDK's signing step and before anything goes
 * on the wire (the request is stopped there).
 */
async function authorizationOf(endpoint?: string): Promise<string> {
  const client = createDynamoClient({ region: 'us-east-1', ...(endpoint && { endpoint }) });
  let header = '';
  client.middlewareStack.addRelativeTo(
    () => async (args: { request: unknown }) => {
      header = (args.request as { headers: Record<string, string> }).headers.authorization ?? '';
      throw new Error('captured');
    },
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'captureAuthorization' },
  );
  await expect(client.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'k' } } }))).rejects.toThrow(
    'captured',
  );
  client.destroy();
  return header;
}

describe('createDynamoClient: who signs', () => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeEach(() => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  });
  afterEach(() => {
    for (const [key, value] of [
      ['AWS_ACCESS_KEY_ID', saved.id],
      ['AWS_SECRET_ACCESS_KEY', saved.secret],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('signs every request to AWS with SigV4 (a real signature over the request)', async () => {
    const header = await authorizationOf();
    expect(header).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/dynamodb\/aws4_request, /,
    );
    expect(header).toMatch(/Signature=[0-9a-f]{64}$/);
  });

  it('gives a local endpoint a SigV4-shaped header with no signature (dynalite checks the shape only)', async () => {
    const header = await authorizationOf('http://127.0.0.1:1');
    expect(header).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/local\/dynamodb\/aws4_request, /);
    expect(header).toMatch(/Signature=unsigned$/);
  });
});
