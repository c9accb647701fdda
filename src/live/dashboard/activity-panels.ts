/**
 * What the control loop is doing, as lists: migrations in flight with their stage, the current plan with each
 * move's reasons, and the cells added and removed.
 */
import { MIGRATION_STAGES } from '../../domain/migration/migration-stage.ts';
import { escapeXml } from '../../report/svg-chart.ts';
import type { LiveMigration, LiveSnapshot } from '../live-snapshot.ts';
import { dayTime, durationLabel } from './chart-geometry.ts';
import { regionStyle } from './palette.ts';

/** Index of the stage in MigratePartition's order, or -1 for a stage outside it (a rollback, an end state). */
export function stagePosition(stage: string): number {
  return (MIGRATION_STAGES as readonly string[]).indexOf(stage);
}

function regionOfCell(snapshot: LiveSnapshot, cellId: string): string | null {
  return snapshot.cells.find((c) => c.id === cellId)?.region ?? null;
}

/** A cell id with a swatch of its region's colour. */
function cellRef(snapshot: LiveSnapshot, cellId: string): string {
  const region = regionOfCell(snapshot, cellId);
  return `<span class="cell-ref" data-tip="${escapeXml(region ? `${cellId} in ${region}` : cellId)}"><span class="dot" style="--c:${regionStyle(snapshot.regions, region).color}"></span>${escapeXml(cellId)}</span>`;
}

/** The stages as a row of segments: done, current, to come; a rollback shows as its own state. */
function stagePipeline(stage: string): string {
  const at = stagePosition(stage);
  const rollingBack = at < 0 && /roll/i.test(stage);
  const segments = MIGRATION_STAGES.map((name, i) => {
    const state = at < 0 ? (rollingBack ? 'undo' : 'todo') : i < at ? 'done' : i === at ? 'now' : 'todo';
    return `<span class="seg ${state}" title="${name}"></span>`;
  }).join('');
  const label = at < 0 ? stage : `${stage} <span class="muted">${at + 1}/${MIGRATION_STAGES.length}</span>`;
  return `<span class="pipeline${rollingBack ? ' rollback' : ''}" data-tip="${escapeXml(`stages: ${MIGRATION_STAGES.join(' → ')}`)}">${segments}</span><span class="stage-name">${label}</span>`;
}

/** One migration as three short lines (it must fit a narrow column): partition and age, route, stage. */
function migrationItem(snapshot: LiveSnapshot, m: LiveMigration): string {
  return [
    `<li class="migration" data-partition="${escapeXml(m.partition)}">`,
    `<div class="migration-head"><span class="mono strong">${escapeXml(m.partition)}</span>`,
    `<span class="muted" data-tip="${escapeXml(`started ${dayTime(m.startedTraceMs)} UTC (trace time)`)}">for ${durationLabel(snapshot.trace.nowMs - m.startedTraceMs)}</span></div>`,
    `<div class="route">${cellRef(snapshot, m.from)}<span class="arrow">→</span>${cellRef(snapshot, m.to)}</div>`,
    `<div class="stage">${stagePipeline(m.stage)}</div>`,
    '</li>',
  ].join('');
}

export function migrationsPanel(snapshot: LiveSnapshot): string {
  const title = `<h2>Migrations in flight <span class="count-badge">${snapshot.migrations.length}</span></h2>`;
  if (snapshot.migrations.length === 0) {
    return `${title}<p class="empty-note">${snapshot.loop === 'off' ? 'The loop is off: nothing moves.' : 'No migration in flight.'}</p>`;
  }
  const items = [...snapshot.migrations]
    .sort((a, b) => a.startedTraceMs - b.startedTraceMs || a.partition.localeCompare(b.partition))
    .map((m) => migrationItem(snapshot, m))
    .join('');
  return `${title}<div class="scroll"><ul class="migrations">${items}</ul></div>`;
}

export function planPanel(snapshot: LiveSnapshot): string {
  const plan = snapshot.plan;
  if (!plan) {
    const why =
      snapshot.loop === 'off'
        ? 'The loop is off: no plan is made.'
        : 'No plan yet: the planner runs once the profiler has forecasts.';
    return `<h2>Current plan</h2><p class="empty-note">${why}</p>`;
  }
  const inFlight = new Set(snapshot.migrations.map((m) => m.partition));
  const moves = plan.moves
    .map(
      (move) =>
        `<li data-partition="${escapeXml(move.partition)}"><div class="move"><span class="mono">${escapeXml(move.partition)}</span>${cellRef(snapshot, move.from)}<span class="arrow">→</span>${cellRef(snapshot, move.to)}${inFlight.has(move.partition) ? '<span class="tag">in flight</span>' : ''}</div><ul class="reasons">${move.reasons.map((r) => `<li>${escapeXml(r)}</li>`).join('')}</ul></li>`,
    )
    .join('');
  return [
    `<h2>Current plan <span class="count-badge">${plan.moves.length}</span></h2>`,
    `<p class="sub"><span class="mono">${escapeXml(plan.id)}</span>, made ${dayTime(plan.createdTraceMs)} UTC</p>`,
    plan.moves.length
      ? `<div class="scroll"><ol class="moves">${moves}</ol></div>`
      : '<p class="empty-note">The plan moves nothing: placement already fits the forecast.</p>',
  ].join('');
}

export function cellsPanel(snapshot: LiveSnapshot): string {
  const counts = { provisioning: 0, active: 0, draining: 0, retired: 0 };
  for (const cell of snapshot.cells) counts[cell.status] += 1;
  const summary = `<p class="sub">${snapshot.totals.cellsInService} in service · ${counts.provisioning} provisioning · ${counts.draining} draining · ${counts.retired} retired</p>`;
  const title = `<h2>Cells added and removed <span class="count-badge">${snapshot.cellEvents.length}</span></h2>`;
  if (snapshot.cellEvents.length === 0) {
    return `${title}${summary}<p class="empty-note">No cell added or removed yet.</p>`;
  }
  const rows = [...snapshot.cellEvents]
    .sort((a, b) => b.traceMs - a.traceMs)
    .map(
      (e) =>
        `<tr><td class="num">${dayTime(e.traceMs)}</td><td><span class="event event-${e.kind}">${e.kind === 'added' ? '+ added' : '− removed'}</span></td><td>${cellRef(snapshot, e.cell)}</td></tr>`,
    )
    .join('');
  return `${title}${summary}<div class="scroll"><table class="list"><tbody>${rows}</tbody></table></div>`;
}
