/**
 * The placement view: every cell, grouped by region, with its partitions as tiles coloured by the region their
 * predicted demand comes from. A tile whose colour differs from its cell's region is data in the wrong place
 * (it is also outlined, so this does not rest on colour); a striped tile is migrating. Cell status is written
 * on each cell, and provisioning, draining and retired cells are drawn differently.
 */
import { escapeXml } from '../../report/svg-chart.ts';
import type { LiveCell, LiveCellStatus, LiveSnapshot } from '../live-snapshot.ts';
import { formatCount } from './header-panel.ts';
import { regionStyle, UNKNOWN_REGION_COLOR } from './palette.ts';

export interface RegionGroup {
  readonly region: string;
  readonly cells: readonly LiveCell[];
}

const STATUS_ORDER: Record<LiveCellStatus, number> = { active: 0, provisioning: 1, draining: 2, retired: 3 };

/**
 * Cells grouped by region, in the snapshot's region order (regions only cells mention come last); within a
 * region, cells in service first, then by id.
 */
export function groupCellsByRegion(snapshot: LiveSnapshot): RegionGroup[] {
  const regions = [...snapshot.regions];
  for (const cell of snapshot.cells) if (!regions.includes(cell.region)) regions.push(cell.region);
  return regions.map((region) => ({
    region,
    cells: snapshot.cells
      .filter((c) => c.region === region)
      .sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.id.localeCompare(b.id)),
  }));
}

function partitionTip(
  id: string,
  predicted: string | null,
  opsPerSec: number,
  moving: string | undefined,
): string {
  const lines = [
    id,
    predicted === null ? 'no forecast yet' : `demand predicted mostly from ${predicted}`,
    `${opsPerSec >= 10 ? formatCount(opsPerSec) : opsPerSec.toFixed(1)} ops/s measured`,
  ];
  if (moving) lines.push(`migrating: ${moving}`);
  return lines.join('\n');
}

function cellPanel(cell: LiveCell, snapshot: LiveSnapshot, moving: ReadonlyMap<string, string>): string {
  const partitions = [...cell.partitions].sort(
    (a, b) => b.opsPerSec - a.opsPerSec || a.id.localeCompare(b.id),
  );
  const ops = partitions.reduce((sum, p) => sum + p.opsPerSec, 0);
  const misplaced = partitions.filter((p) => p.predictedRegion !== null && p.predictedRegion !== cell.region);
  const tiles = partitions
    .map((p) => {
      const color = regionStyle(snapshot.regions, p.predictedRegion).color;
      const classes = ['tile'];
      if (p.predictedRegion !== null && p.predictedRegion !== cell.region) classes.push('remote');
      if (p.predictedRegion === null) classes.push('unknown');
      const move = moving.get(p.id);
      if (move) classes.push('moving');
      return `<span class="${classes.join(' ')}" style="--c:${color}" data-partition="${escapeXml(p.id)}" data-tip="${escapeXml(partitionTip(p.id, p.predictedRegion, p.opsPerSec, move))}"></span>`;
    })
    .join('');
  const summary = `${cell.id} (${cell.region}), ${cell.status}\n${partitions.length} partitions, ${formatCount(ops)} ops/s\n${misplaced.length} with demand predicted elsewhere`;
  return [
    `<div class="cell cell-${cell.status}" data-cell="${escapeXml(cell.id)}">`,
    `<div class="cell-head" data-tip="${escapeXml(summary)}"><span class="cell-id">${escapeXml(cell.id)}</span>`,
    cell.status === 'active' ? '' : `<span class="cell-status">${cell.status}</span>`,
    `<span class="cell-count">${partitions.length}</span></div>`,
    `<div class="tiles">${tiles || '<span class="cell-empty">empty</span>'}</div>`,
    '</div>',
  ].join('');
}

export function placementPanel(snapshot: LiveSnapshot): string {
  if (snapshot.cells.length === 0) {
    return '<h2>Placement</h2><p class="empty-note">No cells yet: the data plane is starting.</p>';
  }
  const moving = new Map(snapshot.migrations.map((m) => [m.partition, `${m.from} → ${m.to}, ${m.stage}`]));
  const groups = groupCellsByRegion(snapshot)
    .filter((g) => g.cells.length > 0)
    .map((group) => {
      const style = regionStyle(snapshot.regions, group.region);
      const inService = group.cells.filter((c) => c.status !== 'retired');
      const partitions = group.cells.reduce((sum, c) => sum + c.partitions.length, 0);
      return [
        `<section class="region-group" style="--c:${style.color}">`,
        `<h3><span class="swatch"></span>${escapeXml(group.region)} <span class="muted">${inService.length} cells · ${partitions} partitions</span></h3>`,
        `<div class="cells">${group.cells.map((c) => cellPanel(c, snapshot, moving)).join('')}</div>`,
        '</section>',
      ].join('');
    })
    .join('');
  const legend = snapshot.regions
    .map(
      (r) =>
        `<span class="key"><span class="tile" style="--c:${regionStyle(snapshot.regions, r).color}"></span>${escapeXml(r)}</span>`,
    )
    .join('');
  return [
    '<h2>Placement <span class="muted">partitions per cell, coloured by the region of their predicted demand</span></h2>',
    `<div class="placement">${groups}</div>`,
    `<div class="keys">${legend}<span class="key"><span class="tile unknown" style="--c:${UNKNOWN_REGION_COLOR}"></span>no forecast yet</span>`,
    '<span class="key"><span class="tile remote" style="--c:#fff"></span>outlined: demand predicted in another region</span>',
    '<span class="key"><span class="tile moving" style="--c:#fff"></span>striped: migrating</span></div>',
  ].join('');
}
