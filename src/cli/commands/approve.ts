import { type ParseArgsConfig, parseArgs } from 'node:util';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createDynamoClient, documentClient } from '../../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPlanRepository } from '../../adapters/dynamodb/plan-repository.ts';
import { SfnTaskTokenSender } from '../../adapters/stepfunctions/task-token-sender.ts';
import { InputValidationError, PrestageError } from '../../domain/errors.ts';
import type { PlanRepository, TaskTokenSender } from '../../domain/planning/ports.ts';
import { approvePlan } from '../../execute-plan/plan-approval.ts';
import { CONTROL_PLANE_ENV } from '../../lambda/control-plane-env.ts';
import { type CliCommand, type CliIo, optionParseError } from '../command.ts';

const HELP = `Usage: prestage approve PLAN [--reject] [--reason TEXT] [--table NAME] [--region R] [--endpoint URL]

Approves (or rejects) a movement plan that ExecutePlan holds for approval. Reads the task token stored on the
plan header in the plans table and calls Step Functions SendTaskSuccess (approve: the moves start) or
SendTaskFailure with error PlanRejectedError (reject: the plan ends REJECTED and no move starts).

Options:
  --reject              reject the plan instead of approving it
  --reason <text>       why (recorded in the execution history and on the plan)
  --table <name>        the plans table (default: $${CONTROL_PLANE_ENV.plansTable})
  --region <region>     the home region (default: $AWS_REGION, then $AWS_DEFAULT_REGION)
  --endpoint <url>      a DynamoDB endpoint for the plans table (e.g. a local dynalite)
  --sfn-endpoint <url>  a Step Functions endpoint (e.g. Step Functions Local)

Uses the default AWS credential chain (profile, environment, SSO). Needs dynamodb:GetItem on the plans table
and states:SendTaskSuccess / states:SendTaskFailure.

Example:
  npx prestage approve plan-20250102T030405Z-1a2b3c4d --region eu-west-1 --table prestage-plans
  npx prestage approve plan-20250102T030405Z-1a2b3c4d --reject --reason "not during the sale"
`;

const OPTIONS = {
  reject: { type: 'boolean' },
  reason: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  'sfn-endpoint': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** How the command reaches AWS; tests pass local ones. */
export interface ApproveClients {
  plans(options: { table: string; region: string; endpoint?: string }): Pick<PlanRepository, 'getHeader'>;
  sender(options: { region: string; endpoint?: string }): TaskTokenSender;
}

const AWS_CLIENTS: ApproveClients = {
  plans: ({ table, region, endpoint }) =>
    new DynamoPlanRepository(documentClient(createDynamoClient({ region, endpoint })), table),
  sender: ({ region, endpoint }) =>
    new SfnTaskTokenSender(new SFNClient({ region, ...(endpoint ? { endpoint } : {}) })),
};

/** Errors of the AWS SDK that are the caller's set-up, said plainly. */
function explainAwsError(error: unknown, table: string, region: string, endpoint?: string): never {
  const name = (error as Error)?.name;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT')
    throw new PrestageError(
      `cannot reach ${endpoint ? `the endpoint ${endpoint}` : `AWS in ${region}`} (${code}); check --endpoint and --region`,
    );
  if (name === 'ResourceNotFoundException')
    throw new PrestageError(`plans table '${table}' not found in ${region}; pass --table and --region`);
  if (name === 'CredentialsProviderError')
    throw new PrestageError('no AWS credentials found; set AWS_PROFILE or run `aws sso login`');
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException')
    throw new PrestageError(`AWS refused the call (${name}): ${(error as Error).message}`);
  throw error;
}

export function createApproveCommand(clients: ApproveClients = AWS_CLIENTS, env = process.env): CliCommand {
  return {
    name: 'approve',
    summary: 'approve or reject a movement plan waiting for approval',
    help: HELP,
    async run(argv: readonly string[], io: CliIo): Promise<number> {
      let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
      try {
        parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
      } catch (error) {
        throw optionParseError(error, OPTIONS, 'approve');
      }
      const { values, positionals } = parsed;
      if (positionals.length !== 1)
        throw new InputValidationError(
          { field: 'PLAN' },
          positionals.length === 0
            ? "expected the plan id; see 'prestage approve --help'"
            : `expected one plan id, found ${positionals.length}: ${positionals.join(' ')}`,
        );
      const planId = positionals[0];
      const table = (values.table as string | undefined) ?? env[CONTROL_PLANE_ENV.plansTable];
      if (!table)
        throw new InputValidationError(
          { field: '--table' },
          `is required (or set ${CONTROL_PLANE_ENV.plansTable}); it is the plans table of the deployment`,
        );
      const region = (values.region as string | undefined) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
      if (!region)
        throw new InputValidationError(
          { field: '--region' },
          'is required (or set AWS_REGION): the home region',
        );
      const reason = values.reason as string | undefined;
      if (reason !== undefined && !values.reject && reason.trim() === '')
        throw new InputValidationError({ field: '--reason' }, 'expected some text');
      const endpoint = values.endpoint as string | undefined;
      const sfnEndpoint = values['sfn-endpoint'] as string | undefined;
      for (const [flag, url] of [
        ['--endpoint', endpoint],
        ['--sfn-endpoint', sfnEndpoint],
      ] as const) {
        if (url !== undefined && !/^https?:\/\/[^/\s]+/.test(url))
          throw new InputValidationError(
            { field: flag },
            `expected a URL such as http://127.0.0.1:8000, found '${url}'`,
          );
      }
      const plans = clients.plans({ table, region, ...(endpoint ? { endpoint } : {}) });
      const sender = clients.sender({ region, ...(sfnEndpoint ? { endpoint: sfnEndpoint } : {}) });
      const decision = await approvePlan({
        plans,
        sender,
        planId,
        reject: values.reject === true,
        ...(reason !== undefined ? { reason } : {}),
        decidedBy: `prestage approve (${env.USER ?? env.USERNAME ?? 'unknown user'})`,
      }).catch((error: unknown) => {
        if (error instanceof PrestageError) throw error;
        return explainAwsError(error, table, region, endpoint ?? sfnEndpoint);
      });
      const { header } = decision;
      const gib = (header.totalBytes / 2 ** 30).toFixed(2);
      io.stdout.write(
        decision.decision === 'approved'
          ? `approved plan ${planId} (${header.moveCount} moves, ${gib} GiB): ExecutePlan starts the moves\n`
          : `rejected plan ${planId}${reason ? ` (${reason})` : ''}: ExecutePlan ends it REJECTED, no move starts\n`,
      );
      return 0;
    },
  };
}

export const approveCommand = createApproveCommand();
