import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPlanRepository } from '../../../src/adapters/dynamodb/plan-repository.ts';
import { ensureTable, plansTableDefinition } from '../../../src/adapters/dynamodb/table-definitions.ts';
import { createApproveCommand } from '../../../src/cli/commands/approve.ts';
import { registerAllCommands } from '../../../src/cli/commands/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import type { MovementPlan } from '../../../src/domain/planning/movement-plan.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { captureCliIo } from '../../support/cli-capture.ts';
import { localDynamo } from '../../support/local-tables.ts';

registerAllCommands();

const plan: MovementPlan = {
  createdAtMs: Date.UTC(2025, 0, 2),
  moves: [
    {
      partition: 'orders',
      from: 'cell-a',
      to: 'cell-b',
      bytes: 3 * 2 ** 30,
      priority: 1,
      startByMs: 0,
      deadlineMs: 0,
      expectedDurationMs: 0,
      benefit: 1,
      reasons: {},
    },
  ],
  costBefore: 2,
  costAfter: 1,
  deferred: {},
  capacityForecast: [],
};

describe('prestage approve', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let plans: DynamoPlanRepository;
  const sfn = mockClient(SFNClient);
  const args = (...rest: string[]) => [
    'approve',
    ...rest,
    '--table',
    'plans',
    '--region',
    'us-east-1',
    '--endpoint',
    dynamo.endpoint,
  ];

  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    await ensureTable(client, plansTableDefinition('plans'));
    plans = new DynamoPlanRepository(documentClient(client), 'plans');
  });
  afterAll(async () => {
    sfn.restore();
    client.destroy();
    await dynamo.close();
  });
  beforeEach(() => {
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
  });

  async function waitingPlan(planId: string, token: string) {
    await plans.create(plan, { planId, trigger: 'schedule', approval: true });
    await plans.storeTaskToken(planId, token);
  }

  it('approves: reads the token from the plan header and sends SendTaskSuccess', async () => {
    await waitingPlan('plan-ok', 'token-ok');
    const { io, out, err } = captureCliIo();
    expect(await runCli(args('plan-ok'), io)).toBe(0);
    expect(err()).toBe('');
    expect(out()).toBe('approved plan plan-ok (1 moves, 3.00 GiB): ExecutePlan starts the moves\n');
    const calls = sfn.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.taskToken).toBe('token-ok');
    expect(JSON.parse(calls[0].args[0].input.output!)).toMatchObject({ approved: true });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('rejects with SendTaskFailure(PlanRejectedError) carrying the reason', async () => {
    await waitingPlan('plan-no', 'token-no');
    const { io, out } = captureCliIo();
    expect(await runCli(args('plan-no', '--reject', '--reason', 'not during the sale'), io)).toBe(0);
    expect(out()).toContain('rejected plan plan-no (not during the sale)');
    const [call] = sfn.commandCalls(SendTaskFailureCommand);
    expect(call.args[0].input).toMatchObject({
      taskToken: 'token-no',
      error: 'PlanRejectedError',
      cause: expect.stringContaining('not during the sale'),
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('says clearly when the plan is unknown, not waiting, or its token is spent', async () => {
    const unknown = captureCliIo();
    expect(await runCli(args('plan-nope'), unknown.io)).toBe(2);
    expect(unknown.err()).toBe(
      "prestage approve: PlanNotFoundError: plan 'plan-nope' does not exist (or its TTL has expired)\n",
    );

    await plans.create(plan, { planId: 'plan-running', trigger: 'schedule', approval: false });
    await plans.setPlanStatus('plan-running', 'RUNNING');
    const running = captureCliIo();
    expect(await runCli(args('plan-running'), running.io)).toBe(2);
    expect(running.err()).toContain(
      "PlanNotAwaitingApprovalError: plan 'plan-running' is RUNNING; only a plan waiting for approval",
    );

    await waitingPlan('plan-spent', 'token-spent');
    sfn
      .on(SendTaskSuccessCommand)
      .rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));
    const spent = captureCliIo();
    expect(await runCli(args('plan-spent'), spent.io)).toBe(2);
    expect(spent.err()).toContain(
      "the approval request of plan 'plan-spent' was already answered or has expired",
    );
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('names the missing or bad argument', async () => {
    const cases: [string[], RegExp][] = [
      [['approve', '--table', 't', '--region', 'r'], /PLAN.*expected the plan id/],
      [['approve', 'a', 'b', '--table', 't', '--region', 'r'], /expected one plan id, found 2: a b/],
      [['approve', 'p', '--region', 'r'], /--table.*is required \(or set PRESTAGE_PLANS_TABLE\)/],
      [['approve', 'p', '--table', 't'], /--region.*is required/],
      [
        ['approve', 'p', '--table', 't', '--region', 'r', '--endpoint', 'localhost'],
        /--endpoint.*expected a URL/,
      ],
      [['approve', 'p', '--bogus'], /field '--bogus': unknown option/],
    ];
    const command = createApproveCommand(undefined, {});
    for (const [argv, message] of cases) {
      await expect(command.run(argv.slice(1), captureCliIo().io)).rejects.toThrow(message);
    }
    // Through the CLI: one line, exit code 2, and the environment supplies table and region.
    const viaEnv = createApproveCommand(
      {
        plans: ({ table }) => new DynamoPlanRepository(documentClient(client), table),
        sender: () => ({ sendTaskSuccess: async () => undefined, sendTaskFailure: async () => undefined }),
      },
      { PRESTAGE_PLANS_TABLE: 'plans', AWS_REGION: 'us-east-1' },
    );
    await waitingPlan('plan-env', 'token-env');
    const { io, out } = captureCliIo();
    expect(await viaEnv.run(['plan-env'], io)).toBe(0);
    expect(out()).toContain('approved plan plan-env');
  });

  it('says which endpoint it cannot reach', async () => {
    const { io, err } = captureCliIo();
    const argv = [
      'approve',
      'plan-x',
      '--table',
      'plans',
      '--region',
      'us-east-1',
      '--endpoint',
      'http://127.0.0.1:9',
    ];
    expect(await runCli(argv, io)).toBe(2);
    expect(err()).toBe(
      'prestage approve: PrestageError: cannot reach the endpoint http://127.0.0.1:9 (ECONNREFUSED); check --endpoint and --region\n',
    );
  });

  it('documents itself', async () => {
    const { io, out } = captureCliIo();
    expect(await runCli(['approve', '--help'], io)).toBe(0);
    expect(out()).toContain('Usage: prestage approve PLAN [--reject] [--reason TEXT]');
    expect(out()).toContain('$PRESTAGE_PLANS_TABLE');
  });
});
