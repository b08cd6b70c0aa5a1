// The dashboard's stylesheet: plain, light, readable on a laptop; numbers in tabular figures.
export const DASHBOARD_CSS = String.raw`
:root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ec; --bg: #f5f6f8; --card: #fff; --accent: #2f6fdf;
  --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; --bar: #8fb3f0; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: var(--fg); background: var(--bg); }
.top { display: flex; align-items: center; gap: 12px; padding: 10px 24px; background: var(--card);
  border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
h1 { font-size: 18px; margin: 0; letter-spacing: .3px; }
h2 { font-size: 14px; margin: 0; font-weight: 600; }
.spacer { flex: 1; }
.muted { color: var(--muted); }
.error { color: var(--bad); }
.banner { margin: 12px 24px 0; padding: 8px 12px; background: #fdecec; border: 1px solid #f5c2c2; border-radius: 6px; }
button { font: inherit; padding: 5px 12px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent);
  color: #fff; cursor: pointer; }
button.quiet { background: transparent; color: var(--accent); }
button:disabled { opacity: .55; cursor: default; }
main { padding: 16px 24px 32px; display: flex; flex-direction: column; gap: 16px; max-width: 1440px; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
.card-head { display: flex; align-items: center; gap: 12px; justify-content: space-between; margin-bottom: 10px; }
.grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; }
.grid.flip { grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); }
@media (max-width: 1000px) { .grid, .grid.flip { grid-template-columns: 1fr; } }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.stat .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .4px; }
.stat .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat .sub { color: var(--muted); font-size: 12px; }
.login { max-width: 460px; margin: 64px auto; }
.login form { display: flex; flex-direction: column; gap: 8px; }
.login input { font: inherit; padding: 7px 9px; border: 1px solid var(--line); border-radius: 6px; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; position: sticky; top: 0; background: var(--card); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { white-space: normal; word-break: break-word; min-width: 160px; }
td .clip { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; font-size: 12px; }
td.action { text-align: right; }
td.action div { margin-top: 4px; font-size: 12px; }
tr:last-child td { border-bottom: 0; }
.scroll { max-height: 420px; overflow: auto; }
.pill { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; background: #eef1f6; color: var(--muted); }
.pill.ok { background: #e5f5ec; color: var(--ok); }
.pill.warn { background: #fbf0dc; color: var(--warn); }
.pill.bad { background: #fdecec; color: var(--bad); }
.bad { color: var(--bad); font-weight: 600; }
.ok { color: var(--ok); font-weight: 600; }
.meter { position: relative; height: 8px; background: #eef1f6; border-radius: 4px; overflow: hidden; min-width: 120px; }
.meter > span { position: absolute; left: 0; top: 0; bottom: 0; background: var(--accent); border-radius: 4px; }
.meter.low > span { background: var(--warn); }
.row { display: flex; align-items: center; gap: 10px; margin: 6px 0; }
.row .name { min-width: 120px; font-weight: 600; }
.row .meter { flex: 1; }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin-bottom: 12px; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; font-variant-numeric: tabular-nums; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart rect.bar { fill: var(--bar); }
svg.chart rect.bar:hover { fill: var(--accent); }
svg.chart rect.after { fill: #d5dcea; }
svg.chart text.after-count { fill: var(--muted); }
svg.chart line.even { stroke: var(--ok); stroke-dasharray: 5 4; stroke-width: 1.5; }
svg.chart line.axis { stroke: #b8bfcc; }
svg.chart text { font-size: 11px; fill: var(--muted); }
select, .toggle input { font: inherit; }
.toggle { display: inline-flex; gap: 6px; align-items: center; font-size: 13px; }
.empty { color: var(--muted); padding: 8px 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
`;
