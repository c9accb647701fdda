/**
 * The live page's stylesheet. Three columns at a laptop's width (1280 px), two below 1100 px, one below 720 px;
 * charts are SVGs scaled to their column, drawn at about the size they are shown so text stays legible.
 */
export const DASHBOARD_CSS = `
*{box-sizing:border-box}
body{margin:0;background:#eef1f4;color:#1d2329;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
.page{max-width:1440px;margin:0 auto;padding:12px 16px 24px}
h1{font-size:18px;margin:0}
h2{font-size:13px;font-weight:650;margin:0 0 6px}
h3{font-size:12px;font-weight:650;margin:0 0 5px;display:flex;align-items:center;gap:6px}
.muted{color:#66727e;font-weight:400}
.sub{color:#5a6570;margin:-2px 0 6px;font-size:12px}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
#header{background:#fff;border:1px solid #dde3e9;border-radius:8px;padding:10px 14px;margin-bottom:12px}
.title-row,.clock-row{display:flex;flex-wrap:wrap;align-items:center;gap:6px 14px}
.clock-row{margin:8px 0}
.status,.loop{display:inline-flex;align-items:center;gap:5px;border-radius:10px;padding:1px 9px;font-weight:650;font-size:12px;border:1px solid transparent}
.status::before{content:"";width:7px;height:7px;border-radius:50%;background:currentColor}
.status-starting,.status-stopped{background:#eceff1;color:#455a64;border-color:#cfd8dc}
.status-warming-up{background:#fff4d6;color:#7a5200;border-color:#f0c36d}
.status-running{background:#dcf3e3;color:#14652f;border-color:#9fd8b0}
.status-running::before{animation:pulse 1.6s ease-in-out infinite}
.status-finished{background:#e1efff;color:#004f8a;border-color:#9cc6ef}
.status-failed{background:#fde0e0;color:#a11212;border-color:#f2a8a8}
@keyframes pulse{50%{opacity:.25}}
.loop-on{background:#fff;color:#004f8a;border-color:#9cc6ef}
.loop-off{background:#fff;color:#66727e;border-color:#cfd8dc;border-style:dashed}
.trace-name{color:#5a6570}
.elapsed{margin-left:auto;color:#5a6570;font-variant-numeric:tabular-nums}
.connection{font-size:12px;color:#5a6570}
.connection.lost{color:#a11212;font-weight:650}
.clock{font-size:14px}.clock strong{font-variant-numeric:tabular-nums}
.clock-label{color:#66727e;font-size:12px}
.progress{position:relative;flex:1 1 200px;min-width:160px;max-width:420px;height:18px;background:#eef1f4;border-radius:9px;overflow:hidden}
.progress-fill{position:absolute;inset:0 auto 0 0;background:#9cc6ef}
.progress span{position:relative;display:block;text-align:center;font-size:11px;line-height:18px;color:#1d2329}
.scale{color:#5a6570}.scale strong{color:#1d2329}
dl.totals{display:grid;grid-template-columns:repeat(auto-fit,minmax(104px,1fr));gap:6px;margin:0}
.stat{background:#f6f8fa;border:1px solid #e3e8ed;border-radius:6px;padding:3px 9px}
.stat dt{font-size:11px;color:#66727e}
.stat dd{margin:0;font-size:16px;font-weight:650;font-variant-numeric:tabular-nums}
.stat.warn{background:#fff7e0;border-color:#f0c36d}
.stat.bad{background:#fde8e8;border-color:#f2a8a8}.stat.bad dd{color:#a11212}
.panels{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));grid-auto-flow:row dense;gap:12px}
.panel{background:#fff;border:1px solid #dde3e9;border-radius:8px;padding:10px 12px;min-width:0}
.panel.chart-panel{padding:6px 6px 2px}
.span-2{grid-column:span 2}
.tall{grid-row:span 2}
.scroll{max-height:300px;overflow:auto}
.tall .scroll{max-height:620px}
svg.chart{display:block;width:100%;height:auto;overflow:visible}
.chart-title{font-size:12.5px;font-weight:650;fill:#1d2329}
.chart-unit{font-size:11px;fill:#66727e}
.tick{font-size:10px;fill:#5a6570}.tick.major{font-weight:650;fill:#1d2329}
.legend{font-size:11px;fill:#1d2329}
line.grid{stroke:#edf0f3}
.axis{stroke:#9aa5b1}
.future{fill:#f4f6f8}
.empty{font-size:12px;fill:#7a8691}
.marker line{stroke:#5a6570;stroke-dasharray:3 3;pointer-events:none}
.marker rect{fill:#fff;stroke:#5a6570}
.marker text{font-size:11px;font-weight:700;fill:#1d2329;pointer-events:none}
.marker{cursor:help}
.legend-item{cursor:pointer}.legend-item.off{opacity:.35}.legend-hit{fill:transparent}
.legend-item:focus{outline:none}.legend-item:focus .legend-hit{stroke:#0072b2}
.series.hidden{display:none}
.hover-area{fill:transparent;cursor:crosshair}
.crosshair{stroke:#37474f;stroke-width:1;stroke-dasharray:2 2;pointer-events:none}
.hover-dot{stroke:#fff;stroke-width:1.5;pointer-events:none}
.small-multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:4px 10px}
.keys{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:11px;color:#3d4852;margin:6px 0 2px}
.key{display:inline-flex;align-items:center;gap:5px}
.line-key{display:inline-block;width:22px;height:0;border-top:2.5px solid var(--c)}
.line-key.dashed{border-top-style:dashed}
.placement{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:10px}
.region-group h3 .swatch{width:10px;height:10px;border-radius:2px;background:var(--c)}
.region-group .cells{display:flex;flex-direction:column;gap:6px}
.cell{border:1px solid #d5dce3;border-left:4px solid var(--c,#9aa5b1);border-radius:5px;padding:4px 6px}
.region-group .cell{border-left-color:var(--c)}
.cell-head{display:flex;align-items:center;gap:6px;font-size:11.5px;margin-bottom:4px}
.cell-id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-weight:600}
.cell-count{margin-left:auto;color:#5a6570;font-variant-numeric:tabular-nums}
.cell-status{font-size:10.5px;font-weight:650;border-radius:8px;padding:0 6px;border:1px solid}
.cell-provisioning{border-style:dashed;background:#f7fbff}.cell-provisioning .cell-status{color:#004f8a;border-color:#9cc6ef;background:#e1efff}
.cell-draining{background:#fffaf0;border-style:dashed}.cell-draining .cell-status{color:#7a5200;border-color:#f0c36d;background:#fff4d6}
.cell-retired{opacity:.5;background:#f4f6f8}.cell-retired .cell-id{text-decoration:line-through}.cell-retired .cell-status{color:#455a64;border-color:#cfd8dc}
.tiles{display:flex;flex-wrap:wrap;gap:3px;min-height:14px}
.tile{display:inline-block;width:14px;height:14px;border-radius:3px;background-color:var(--c)}
.tile.remote{box-shadow:inset 0 0 0 2px #1d2329}
.tile.moving{background-image:repeating-linear-gradient(135deg,rgba(255,255,255,.85) 0 2px,transparent 2px 5px)}
.tile.unknown{background-color:#b8c0c8}
.keys .tile.remote,.keys .tile.moving{background-color:#9aa5b1}
.cell-empty{font-size:11px;color:#7a8691}
.empty-note{color:#66727e;margin:8px 0}
.count-badge{display:inline-block;min-width:20px;text-align:center;border-radius:9px;background:#eef1f4;color:#3d4852;font-size:11px;padding:0 6px;margin-left:4px}
table.list{border-collapse:collapse;width:100%}
table.list th{font-size:11px;font-weight:600;color:#66727e;text-align:left;padding:2px 6px;border-bottom:1px solid #dde3e9;position:sticky;top:0;background:#fff}
table.list td{padding:4px 6px;border-bottom:1px solid #eef1f4;vertical-align:middle}
.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.strong{font-weight:650}
ul.migrations{list-style:none;margin:0;padding:0}
li.migration{padding:5px 0;border-bottom:1px solid #eef1f4;display:grid;gap:3px}
.migration-head{display:flex;justify-content:space-between;gap:8px}
.route{display:flex;flex-wrap:wrap;align-items:center}
.cell-ref{display:inline-flex;align-items:center;gap:4px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px}
.dot{width:8px;height:8px;border-radius:50%;background:var(--c)}
.arrow{color:#66727e;margin:0 5px}
.pipeline{display:inline-flex;gap:2px;vertical-align:middle;margin-right:6px}
.seg{width:9px;height:10px;border-radius:2px;background:#e3e8ed}
.seg.done{background:#56b4e9}.seg.now{background:#0072b2;box-shadow:0 0 0 1.5px #fff,0 0 0 2.5px #0072b2}
.seg.undo{background:repeating-linear-gradient(135deg,#d55e00 0 2px,#f6d2bd 2px 4px)}
.stage-name{font-size:12px;white-space:nowrap}
.rollback+.stage-name{color:#a13f00;font-weight:650}
ol.moves{margin:0;padding:0 0 0 20px}
ol.moves>li{padding:4px 0;border-bottom:1px solid #eef1f4}
.move{display:flex;flex-wrap:wrap;align-items:center;gap:2px 8px}
.move .arrow{margin:0}
ul.reasons{margin:2px 0 0;padding-left:16px;color:#3d4852;font-size:12px}
.tag{font-size:10.5px;font-weight:650;color:#004f8a;background:#e1efff;border-radius:8px;padding:0 6px}
.event{font-weight:650;white-space:nowrap}.event-added{color:#006b4f}.event-removed{color:#a13f00}
.tip{position:fixed;z-index:10;background:#fff;border:1px solid #c9d1d9;border-radius:6px;box-shadow:0 2px 8px rgba(0,0,0,.15);padding:6px 9px;font-size:12px;pointer-events:none;max-width:340px;white-space:pre-line}
.tip[hidden]{display:none}
.tip-time{font-weight:650;margin-bottom:3px}
.tip table{border-collapse:collapse}.tip td{padding:1px 4px}
.tip-value{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.tip-swatch{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:5px}
footer{color:#66727e;font-size:11px;margin-top:12px}
@media (max-width:1100px){.panels{grid-template-columns:repeat(2,minmax(0,1fr))}.tall{grid-row:auto}}
@media (max-width:720px){.page{padding:8px}.panels{grid-template-columns:minmax(0,1fr)}.span-2{grid-column:auto}.elapsed{margin-left:0}}
`;
