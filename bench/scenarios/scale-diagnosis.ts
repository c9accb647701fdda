/**
 * Where the predictive policy's cell-hours go (issue 12, "cells in the objective"): per scenario, the cells each
 * region runs after the warm-up (predictive against the oracle), every forecast scale-out with the shortfall that
 * triggered it (how far ahead of the step it forecast over headroom, how far over, and whether the true demand
 * of that region then went over its capacity), and every scale-in.
 *
 *   npx tsx bench/scenarios/scale-diagnosis.ts --only partitions-240,two-regions [--policies predictive,oracle]
 *   npx tsx bench/scenarios/scale-diagnosis.ts --half tuning
 *
 * Decisions, not timings: run it with `nice -n 19`. Prints to stdout; progress to stderr.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CapacityShortfall } from '../../src/domain/planning/movement-plan.ts';
import { prepareBacktest } from '../../src/domain/simulation/backtest.ts';
import { ClusterSimulator } from '../../src/domain/simulation/cluster-simulator.ts';
import { productionDependencies } from '../../src/domain/simulation/default-dependencies.ts';
import { PlannerPolicy } from '../../src/domain/simulation/planner-policy.ts';
import { planningBuckets } from '../../src/domain/simulation/replay-context.ts';
import type { PolicyName, PolicyResult } from '../../src/domain/simulation/simulation-options.ts';
import { type Half, scenarioNamed, scenariosOf } from './catalog.ts';
import { generateScenario } from './generate-scenario.ts';

const HOUR_MS = 3_600_000;

interface Cycle {
  readonly nowMs: number;
  readonly shortfalls: readonly CapacityShortfall[];
}

function main(): void {
  const { values } = parseArgs({
    options: {
      half: { type: 'string', default: 'tuning' },
      only: { type: 'string' },
      policies: { type: 'string', default: 'predictive,oracle' },
      'scale-in': { type: 'string' },
      'scale-out': { type: 'string' },
      /** One line per scenario against a recorded baseline's oracle (run.ts --out FILE.json). */
      brief: { type: 'string' },
    },
  });
  const specs = values.only
    ? values.only.split(',').map((n) => scenarioNamed(n.trim()))
    : scenariosOf(values.half as Half);
  const policies = values.policies!.split(',') as PolicyName[];
  const baseline = values.brief
    ? (JSON.parse(readFileSync(values.brief, 'utf8')) as {
        scenarios: {
          name: string;
          policies: Record<
            string,
            { cellHours: number; metrics: { overloadCellMinutes: number; remoteShare: number } }
          >;
        }[];
      })
    : undefined;
  const pooled = { pred: 0, oracle: 0 };
  for (const spec of specs) {
    const { input } = generateScenario(spec);
    const cycles = new Map<PolicyName, Cycle[]>();
    let current: PolicyName = policies[0];
    const production = productionDependencies();
    const deps = {
      ...production,
      planMoves: (plannerInput: Parameters<typeof production.planMoves>[0]) => {
        const plan = production.planMoves(plannerInput);
        const list = cycles.get(current) ?? [];
        list.push({ nowMs: plannerInput.nowMs, shortfalls: plan.capacityForecast });
        cycles.set(current, list);
        return plan;
      },
    };
    const results: Partial<Record<PolicyName, PolicyResult>> = {};
    for (const policy of policies) {
      current = policy;
      process.stderr.write(`${spec.name}: ${policy}\n`);
      const options = prepareBacktest(input, {
        ...(values['scale-in'] !== undefined && {
          scaleIn: values['scale-in'] === 'off' ? false : JSON.parse(values['scale-in']),
        }),
        ...(values['scale-out'] !== undefined && {
          scaleOut: values['scale-out'] === 'off' ? false : JSON.parse(values['scale-out']),
        }),
      });
      const planEvery = planningBuckets(options.planningIntervalMs, input.trace.bucketMs);
      const inner = new PlannerPolicy(policy as 'predictive', input, deps, options, planEvery);
      // Per region, the cycles after the first day each scale-in rule held it back, and the lowest utilization
      // the region would run at on one cell fewer.
      const blocks = new Map<string, Map<string, number>>();
      const lowest = new Map<string, number>();
      const priced: string[] = [];
      const driver = {
        get plannerMs() {
          return inner.plannerMs;
        },
        get plannerCalls() {
          return inner.plannerCalls;
        },
        observe: (b: number) => inner.observe(b),
        decide: (view: Parameters<PlannerPolicy['decide']>[0]) => {
          const decision = inner.decide(view);
          for (const a of inner.scaleOutAssessments())
            priced.push(
              `${((view.nowMs - input.trace.startMs) / HOUR_MS).toFixed(1)} h ${a.region} ${a.cells > 0 ? `buys ${a.cells}` : 'skips'} (needed ${a.shortfall.cellsNeeded}, benefit $${a.benefitUsd.toFixed(2)}, of which locality $${a.localityUsd.toFixed(2)}, vs $${a.costUsd.toFixed(2)})`,
            );
          for (const a of inner.scaleInAssessments()) {
            const m = blocks.get(a.region) ?? new Map<string, number>();
            const key = a.blockedBy ?? 'scale-in';
            m.set(key, (m.get(key) ?? 0) + 1);
            blocks.set(a.region, m);
            if (a.utilizationWithout !== undefined)
              lowest.set(a.region, Math.min(lowest.get(a.region) ?? Infinity, a.utilizationWithout));
          }
          return decision;
        },
      };
      results[policy] = new ClusterSimulator(input, policy, driver, options).run();
      const base = baseline?.scenarios.find((b) => b.name === spec.name)?.policies;
      if (base) {
        const r = results[policy]!;
        const o = base.oracle;
        pooled.pred += r.details.cellHours;
        pooled.oracle += o.cellHours;
        console.log(
          `${spec.name}: cells ${(r.details.cellHours / o.cellHours).toFixed(2)}× oracle (pooled so far ${(pooled.pred / pooled.oracle).toFixed(3)}×); overload ${r.metrics.overloadCellMinutes.toFixed(0)} (reactive ${base.reactive.metrics.overloadCellMinutes.toFixed(0)}, oracle ${o.metrics.overloadCellMinutes.toFixed(0)}); remote ${(100 * r.metrics.remoteShare).toFixed(2)}% (static ${(100 * base.static.metrics.remoteShare).toFixed(2)}%, oracle ${(100 * o.metrics.remoteShare).toFixed(2)}%, gap closed ${((100 * (base.static.metrics.remoteShare - r.metrics.remoteShare)) / (base.static.metrics.remoteShare - o.metrics.remoteShare)).toFixed(1)}%); GiB ${(r.metrics.bytesMoved / 2 ** 30).toFixed(0)}; thrash ${r.metrics.thrashMoves}; scale-ins ${r.details.cellsScaledIn}, flaps ${r.details.scaleFlaps}`,
        );
        continue;
      }
      if (policy === policies[0])
        report(spec.name, input.trace.startMs + options.warmupMs, input, undefined, undefined);
      if (priced.length > 0)
        console.log(`  ${policy} priced scale-outs (${priced.length}): ${priced.slice(0, 40).join('; ')}`);
      if (blocks.size > 0)
        console.log(
          `  ${policy} scale-in verdicts (cycles): ${[...blocks].map(([r, m]) => `${r} ${JSON.stringify(Object.fromEntries(m))} min util w/o ${(lowest.get(r) ?? Number.NaN).toFixed(2)}`).join('; ')}`,
        );
    }
    if (baseline) continue;
    const evalStart = input.trace.startMs + 7 * 86_400_000;
    for (const policy of policies)
      report(spec.name, evalStart, input, policy, results[policy], cycles.get(policy));
  }
}

function report(
  name: string,
  evalStartMs: number,
  input: ReturnType<typeof generateScenario>['input'],
  policy: PolicyName | undefined,
  result: PolicyResult | undefined,
  cycles?: Cycle[],
): void {
  const { trace, topology } = input;
  const startMs = trace.startMs;
  const endMs = startMs + trace.bucketCount * trace.bucketMs;
  const h = (ms: number) => ((ms - startMs) / HOUR_MS).toFixed(1);
  if (!policy || !result) {
    const perRegion: Record<string, number> = {};
    for (const c of topology.cells) perRegion[c.region] = (perRegion[c.region] ?? 0) + 1;
    console.log(
      `\n## ${name}: ${topology.cells.length} initial cells ${JSON.stringify(perRegion)}, cap ${topology.cells[0].capacityOpsPerSec} ops/s, eval from ${h(evalStartMs)} h to ${h(endMs)} h`,
    );
    return;
  }
  // Cell-hours per region after the warm-up, from the cell events.
  const life = new Map<string, { region: string; from: number; to: number; origin: string }>();
  for (const c of topology.cells)
    life.set(c.id, { region: c.region, from: startMs, to: endMs, origin: 'initial' });
  for (const e of result.cellEvents) {
    if (e.kind.startsWith('added'))
      life.set(e.cell, { region: e.region, from: e.atMs, to: endMs, origin: e.kind });
    if (e.kind === 'retired') {
      const l = life.get(e.cell);
      if (l) l.to = e.atMs;
    }
  }
  const hours: Record<string, number> = {};
  for (const l of life.values()) {
    const span = Math.max(0, Math.min(endMs, l.to) - Math.max(evalStartMs, l.from)) / HOUR_MS;
    hours[l.region] = (hours[l.region] ?? 0) + span;
  }
  const evalHours = (endMs - evalStartMs) / HOUR_MS;
  const avg = Object.fromEntries(Object.entries(hours).map(([r, v]) => [r, +(v / evalHours).toFixed(2)]));
  console.log(
    `- ${policy}: cells avg ${result.details.cellsInServiceAvg.toFixed(2)} ${JSON.stringify(avg)}; overload ${result.metrics.overloadCellMinutes.toFixed(0)} cell-min; remote ${(100 * result.metrics.remoteShare).toFixed(2)}%; scale-ins ${result.details.cellsScaledIn ?? '-'}, flaps ${result.details.scaleFlaps ?? '-'}`,
  );
  // True demand by region of origin, per bucket, against the region's capacity at that time.
  const P = trace.partitions.length;
  const R = trace.regions.length;
  const regionDemand = (r: number, fromMs: number, toMs: number) => {
    let peak = 0;
    const b0 = Math.max(0, Math.floor((fromMs - startMs) / trace.bucketMs));
    const b1 = Math.min(trace.bucketCount, Math.ceil((toMs - startMs) / trace.bucketMs));
    for (let b = b0; b < b1; b++) {
      let s = 0;
      for (let p = 0; p < P; p++) {
        const i = (b * P + p) * R + r;
        s += trace.reads[i] + trace.writes[i];
      }
      peak = Math.max(peak, s);
    }
    return peak;
  };
  for (const e of result.cellEvents) {
    if (e.kind === 'added-by-forecast' || e.kind === 'added-by-alarm' || e.kind === 'draining') {
      const r = trace.regions.indexOf(e.region);
      const liveCap = [...life.entries()]
        .filter(([, l]) => l.region === e.region && l.from <= e.atMs && l.to > e.atMs)
        .reduce(
          (s, [id]) =>
            s +
            (topology.cells.find((c) => c.id === id)?.capacityOpsPerSec ??
              topology.cells[0].capacityOpsPerSec),
          0,
        );
      const l = life.get(e.cell);
      let why = '';
      if (e.kind === 'added-by-forecast' && cycles) {
        const cycle = [...cycles].reverse().find((c) => c.nowMs <= e.atMs);
        const s = cycle?.shortfalls.find((x) => x.region === e.region);
        if (s)
          why = ` shortfall at +${((s.atMs - e.atMs) / 60_000).toFixed(0)} min, by ${((s.scaleOutByMs - e.atMs) / 60_000).toFixed(0)} min, peak ${s.peakDemandOpsPerSec.toFixed(0)} / usable ${s.usableCapacityOpsPerSec.toFixed(0)} (${(s.peakDemandOpsPerSec / (s.usableCapacityOpsPerSec / 0.8)).toFixed(2)}× raw cap)`;
      }
      const truePeak = regionDemand(r, e.atMs, e.atMs + 6 * HOUR_MS);
      console.log(
        `    ${h(e.atMs)} h ${e.kind} ${e.cell} (${e.region}, live cap ${liveCap.toFixed(0)}; true origin peak next 6 h ${truePeak.toFixed(0)} = ${(truePeak / liveCap).toFixed(2)}× cap)${e.kind !== 'draining' && l ? ` lives to ${h(l.to)} h` : ''}${why}`,
      );
    }
  }
}

main();
