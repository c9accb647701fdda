/**
 * A fingerprint of every plan the planning policies make on a scenario, to show that a change to the planner's
 * speed left its decisions alone: run it on two commits and compare the output (the same hashes = the same plans,
 * JSON-equal, cycle by cycle).
 *
 *   npx tsx bench/scenarios/plan-fingerprint.ts                               # large-2000, first 240 buckets
 *   npx tsx bench/scenarios/plan-fingerprint.ts --buckets 600 --policies reactive,oracle
 *   npx tsx bench/scenarios/plan-fingerprint.ts --scenario partitions-50 --buckets 0   # 0 = the whole trace
 *
 * Each policy replays from the start until `--buckets` buckets (2,880 in the 30-day scenario); every planner
 * call's plan is hashed (SHA-256 of its JSON) and the hashes are chained, so one line per policy says whether
 * any plan differed. CPU-heavy, timing-insensitive: run it under `nice -n 19`.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { prepareBacktest, simulatePolicy } from '../../src/domain/simulation/backtest.ts';
import { productionDependencies } from '../../src/domain/simulation/default-dependencies.ts';
import type { PolicyName, SimulationDependencies } from '../../src/domain/simulation/simulation-options.ts';
import { scenarioNamed } from './catalog.ts';
import { generateScenario } from './generate-scenario.ts';

class Enough extends Error {}

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'large-2000' },
    policies: { type: 'string', default: 'reactive,oracle,predictive' },
    buckets: { type: 'string', default: '240' },
  },
});
const spec = scenarioNamed(values.scenario);
const { input } = generateScenario(spec);
const limit = Number(values.buckets) || input.trace.bucketCount;
const options = prepareBacktest(input, {});
for (const policy of values.policies.split(',') as PolicyName[]) {
  const production = productionDependencies();
  const chain = createHash('sha256');
  let plans = 0;
  let moves = 0;
  const deps: SimulationDependencies = {
    ...production,
    planMoves: (plannerInput) => {
      const plan = production.planMoves(plannerInput);
      plans++;
      moves += plan.moves.length;
      chain.update(createHash('sha256').update(JSON.stringify(plan)).digest());
      return plan;
    },
  };
  const started = process.cpuUsage();
  try {
    simulatePolicy(input, policy, deps, {
      ...options,
      onProgress: ({ bucket }) => {
        if (bucket >= limit && bucket < input.trace.bucketCount) throw new Enough();
      },
    });
  } catch (error) {
    if (!(error instanceof Enough)) throw error;
  }
  const { user, system } = process.cpuUsage(started);
  process.stdout.write(
    `${spec.name} ${policy}: ${plans} plans, ${moves} moves over ${Math.min(limit, input.trace.bucketCount)} buckets, ` +
      `fingerprint ${chain.digest('hex').slice(0, 16)} (${((user + system) / 1e6).toFixed(0)} CPU s)\n`,
  );
}
