// The dashboard's browser script: reads GET /v1/overview with the admin key and renders it; replays dead letters and
// follows each replayed job to its end. Data only via textContent. `npm run assets` bundles it into the page.
import type * as O from './overview.js';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown> | null;

const KEY = 'stagger.adminKey';
const REFRESH_MS = 5000;
const SVG = 'http://www.w3.org/2000/svg';
const base = new URL('.', location.href);
interface Replay {
  item: O.DeadLetter;
  text: string;
  cls: string;
}
const state: {
  key: string | null;
  data: O.Overview | null;
  loading: boolean;
  chart: string;
  replays: Record<string, Replay>;
} = { key: sessionStorage.getItem(KEY), data: null, loading: false, chart: '', replays: {} };

const $ = (id: string) => document.getElementById(id) as HTMLElement;
const input = (id: string) => $(id) as HTMLInputElement;
/** `tag` may carry classes as in CSS (`span.pill.bad`); `attrs.text` becomes textContent, `attrs.onclick` a listener. */
function el(tag: string, attrs: Attrs, ...children: Child[]): HTMLElement {
  return build(document.createElement(tag.split('.')[0]!), tag, attrs, children);
}
function svg(tag: string, attrs: Attrs, ...children: Child[]): SVGElement {
  return build(document.createElementNS(SVG, tag.split('.')[0]!), tag, attrs, children);
}
/** An element with only text (and maybe a few attributes): the common case. */
const txt = (tag: string, text: string | number, attrs?: Attrs) => el(tag, { ...attrs, text });
const empty = (text: string) => txt('p.empty', text);
function build<E extends Element>(node: E, tag: string, attrs: Attrs, children: Child[]): E {
  const classes = tag.split('.').slice(1).join(' ');
  Object.entries(classes ? { class: classes, ...attrs } : attrs || {}).forEach(([k, v]) => {
    if (v === undefined || v === null || v === false) return;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'onclick') node.addEventListener('click', v as EventListener);
    else node.setAttribute(k, String(v));
  });
  append(node, children);
  return node;
}
function append(node: Node, child: Child) {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) child.forEach((c) => append(node, c));
  else node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
}
function fill(id: string, ...children: Child[]) {
  const node = $(id);
  node.textContent = '';
  append(node, children);
}
/** Parts of a sentence joined by ' · ', the empty ones left out. */
const dots = (...parts: (string | false | 0 | undefined)[]) => parts.filter(Boolean).join(' · ');

// ---- formatting
const nf = new Intl.NumberFormat('en-US');
const int = (n: number) => nf.format(n);
const clock = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
function when(iso: string) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? clock(iso)
    : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
function span(ms: number) {
  const s = Math.abs(ms) / 1000;
  if (s < 90) return Math.round(s) + ' s';
  if (s < 5400) return Math.round(s / 60) + ' min';
  if (s < 129600) return Math.round(s / 3600) + ' h';
  return Math.round(s / 86400) + ' d';
}
function relative(iso: string) {
  const ms = new Date(iso).getTime() - Date.now();
  return ms >= 0 ? 'in ' + span(ms) : span(ms) + ' ago';
}
function schedule(s: O.TaskView['schedule']) {
  if ('cron' in s) return 'cron ' + s.cron;
  return { hour: 'hourly', day: 'daily', week: 'weekly', month: 'monthly' }[s.every] + ' ' + s.at;
}
const pct = (part: number, whole: number) =>
  whole > 0 ? Math.max(0, Math.min(100, (100 * part) / whole)) : 0;
function meter(part: number, whole: number, low?: boolean) {
  const bar = el('span', null);
  bar.style.width = pct(part, whole).toFixed(1) + '%';
  return el(
    low ? 'div.meter.low' : 'div.meter',
    { role: 'meter', 'aria-valuenow': part, 'aria-valuemax': whole },
    bar,
  );
}

// ---- API
async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const opts: RequestInit = init || {};
  opts.headers = { authorization: 'Bearer ' + state.key };
  const res = await fetch(new URL(path, base), opts);
  if (res.status === 401) {
    signOut('That key was refused (401).');
    throw new Error('unauthorized');
  }
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error((body && body.error && body.error.message) || 'HTTP ' + res.status);
  return body as T;
}
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function load() {
  if (!state.key || state.loading) return;
  state.loading = true;
  const path = 'v1/overview' + (state.chart ? '?chart=' + encodeURIComponent(state.chart) : '');
  try {
    const data = await api<O.Overview>(path);
    state.data = data;
    $('banner').hidden = true;
    render(data);
    $('updated').textContent = 'updated ' + clock(data.now);
    document.body.setAttribute('data-loaded', data.now);
  } catch (err) {
    if (messageOf(err) !== 'unauthorized') {
      $('banner').textContent = 'Could not load the overview: ' + messageOf(err);
      $('banner').hidden = false;
    }
  }
  state.loading = false;
}

// ---- rendering
function stat(name: string, label: string, value: string, sub: string, bad?: boolean) {
  return el(
    'div.stat',
    { 'data-stat': name },
    txt('div.label', label),
    txt(bad ? 'div.value.bad' : 'div.value', value, { 'data-value': '' }),
    txt('div.sub', sub || '\u00a0'),
  );
}

function render(d: O.Overview) {
  const s = d.scheduler;
  const t = (name: string) => d.totals[name] ?? 0;
  const pending = s.slots.reduce((n, x) => n + Math.max(0, x.total - x.count), 0);
  const users = d.taskTypes.reduce((n, x) => n + x.users, 0);
  const failed = t('failed') + t('dead');
  const [tick, lock, dead] = [s.lastTick, s.lock, d.deadLetters.total];
  fill(
    'stats',
    stat(
      'lastTick',
      'Last tick',
      tick ? relative(tick.at) : 'never',
      tick ? dots('fence ' + tick.fence, clock(tick.at)) : '',
    ),
    stat('lock', 'Lock', lock.held ? 'held' : 'free', lock.held ? String(lock.holder) : 'no tick running'),
    stat('activeSlots', 'Slots fanning out', int(s.slots.length), int(pending) + ' jobs to publish'),
    stat('subscriptions', 'Task users', int(users), 'over ' + d.taskTypes.length + ' task types'),
    stat('started', 'Started', int(t('started')), dots(int(t('succeeded')) + ' succeeded', STARTED_NOTE)),
    stat('failed', 'Failed attempts', int(failed), FAILED_NOTE(int(t('failed')), int(t('dead'))), failed > 0),
    stat('deferred', 'Deferred', int(t('deferred') + t('late')), 'by the rate limiter'),
    stat('deadLetters', 'Dead letters', int(dead), int(t('replayed')) + ' replayed so far', dead > 0),
  );
  renderChart(d);
  renderScheduler(s);
  renderTasks(d.taskTypes);
  renderLimits(d.limits);
  renderDeadLetters(d.deadLetters);
}
const STARTED_NOTE = 'attempts, retries and run-now included';
const FAILED_NOTE = (failed: string, dead: string) => dots(failed + ' retryable', dead + ' permanent');

function renderChart(d: O.Overview) {
  const select = $('chart-task');
  const options = d.taskTypes.filter((x) => x.lastPeriod);
  select.textContent = '';
  options.forEach((x) =>
    append(select, txt('option', x.id, { value: x.id, selected: d.chart?.taskId === x.id })),
  );
  select.hidden = options.length < 2;
  const c: O.Chart | null = d.chart;
  if (!c) return fill('chart', empty(NO_CHART));
  const [W, H, L, R, T, B] = [640, 190, 34, 8, 10, 24];
  const n = c.counts.length;
  const even = c.planned / n;
  // One more slot after the window for starts QStash's whole-second delivery made up to a second late.
  const top = Math.max(1, even * 1.6, c.after, ...c.counts);
  const bw = (W - L - R) / (n + 1);
  const y = (v: number) => T + (H - T - B) * (1 - v / top);
  const f1 = (v: number) => v.toFixed(1);
  const start = new Date(c.startAt).getTime();
  const end = L + n * bw;
  const at = (ms: number) => clock(new Date(start + ms).toISOString());
  const bar = (cls: string, i: number, v: number, label: string) => {
    const box = {
      x: f1(L + i * bw + 0.5),
      y: f1(y(v)),
      width: f1(Math.max(1, bw - 1)),
      height: f1(H - B - y(v)),
    };
    return svg('rect', { class: cls, ...box, 'data-count': v }, svg('title', { text: label }));
  };
  const bars = c.counts.map((v, i) =>
    bar('bar', i, v, at(i * c.barMs) + ' +' + span(c.barMs) + ': ' + v + ' started'),
  );
  const started = c.counts.reduce((a, b) => a + b, 0);
  const label = 'Job starts per ' + span(c.barMs) + ' of ' + c.taskId + ' ' + c.periodKey;
  const afterAt = { x: f1(end + bw / 2), y: f1(y(c.after) - 4) };
  const text = (x: number | string, y: number | string, text: string | number, anchor?: string) =>
    svg('text', { x, y, 'text-anchor': anchor, text });
  fill(
    'chart',
    svg(
      'svg.chart',
      { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'data-chart': c.taskId, 'aria-label': label },
      svg('line.axis', { x1: L, x2: W - R, y1: H - B, y2: H - B }),
      bars,
      c.after > 0 &&
        bar('after', n, c.after, c.after + ' started just after the window (whole-second delivery)'),
      c.after > 0 &&
        svg('text.after-count', {
          ...afterAt,
          'text-anchor': 'middle',
          'data-field': 'after',
          text: c.after,
        }),
      svg('line.axis', { x1: f1(end), x2: f1(end), y1: T, y2: H - B }),
      svg(
        'line.even',
        { x1: L, x2: f1(end), y1: f1(y(even)), y2: f1(y(even)) },
        svg('title', { text: 'perfectly even: ' + even.toFixed(2) + ' per bar' }),
      ),
      text(L - 6, y(top) + 4, Math.round(top), 'end'),
      text(L - 6, H - B + 4, '0', 'end'),
      text(L, H - 6, clock(c.startAt)),
      text(f1(end), H - 6, at(c.windowMs), 'end'),
    ),
    el(
      'p.muted',
      { 'data-chart-summary': '' },
      txt('code', c.taskId + ' ' + c.periodKey),
      ' · ',
      txt('span', int(started + c.after), { 'data-field': 'chart-started' }),
      ' of ',
      txt('span', int(c.planned), { 'data-field': 'chart-planned' }),
      ' ' +
        dots(
          'started over ' + span(c.windowMs),
          'one bar = ' + span(c.barMs),
          'dashed: perfectly even',
          c.after && 'grey: ' + int(c.after) + ' just after the window (QStash delivers in whole seconds)',
          c.outside && int(c.outside) + ' outside the window',
        ),
    ),
  );
}
const NO_CHART =
  'No period claimed yet: the chart shows the last window once the scheduler has fanned one out.';

function renderScheduler(s: O.SchedulerView) {
  const [tick, lock] = [s.lastTick, s.lock];
  const did = tick && (tick.summary as O.TickSummary | null);
  const held = 'held by ' + lock.holder + ' (fence ' + lock.fence + ', ' + span(lock.ttlMs ?? 0) + ' left)';
  const kv = el(
    'dl.kv',
    null,
    txt('dt', 'Last tick'),
    txt('dd', tick ? when(tick.at) + ' (' + relative(tick.at) + '), fence ' + tick.fence : 'never'),
    did && txt('dt', 'It did'),
    did &&
      txt(
        'dd',
        dots(
          'claimed ' + int(did.claimed),
          'published ' + int(did.published),
          'done ' + int(did.done),
          did.resumed && 'resumed ' + int(did.resumed),
          did.continued && 'handed over ' + int(did.continued),
          did.failed && 'failed ' + int(did.failed),
        ),
        { 'data-field': 'last-tick-did' },
      ),
    txt('dt', 'Lock'),
    txt('dd', lock.held ? held : 'free', { 'data-field': 'holder' }),
  );
  const slots = s.slots.map((x) =>
    el(
      'div.row',
      { 'data-slot': x.slot },
      txt('span.name', x.taskId),
      txt('span.muted', x.periodKey + (x.group === '_' ? '' : ' ' + x.group)),
      meter(x.count, x.total),
      txt('span.num', int(x.count) + ' / ' + int(x.total), { 'data-field': 'progress' }),
    ),
  );
  const unsettled = (s.unsettled || []).map((x) =>
    el(
      'div.row.bad',
      { 'data-unsettled': x.taskId + ':' + x.periodKey },
      txt('span.name', x.taskId),
      txt('span.muted', x.periodKey + ' · window ended ' + relative(x.windowEnd)),
      meter(x.settled, x.planned),
      txt('span.num', int(x.unsettled) + ' not settled', { 'data-field': 'unsettled' }),
    ),
  );
  fill(
    'scheduler',
    kv,
    txt('h2', 'Slots in progress'),
    slots.length ? slots : empty('No slot is fanning out.'),
    txt('h2', 'Periods not settled'),
    unsettled.length
      ? unsettled
      : empty('Every ended window has all its jobs run, dead-lettered or skipped.'),
  );
}

const TASK_TEXT_COLUMNS = new Set(['Task type', 'Schedule', 'Next period', 'Last period', 'State']);
const COUNTS = ['planned', 'started', 'succeeded', 'failed', 'dead', 'skipped', 'deferred'] as const;
const TASK_COLUMNS = ['Task type', 'Schedule', 'Users', 'Next period', 'Last period'].concat(
  COUNTS.map((c) => c[0]!.toUpperCase() + c.slice(1)),
  'State',
);
const BAD_COUNTS = new Set(['failed', 'dead']);

function renderTasks(list: O.TaskView[]) {
  const all = input('all-tasks').checked;
  const shown = list.filter((x) => all || x.users > 0 || x.lastPeriod || x.paused);
  if (shown.length === 0) return fill('tasks', empty(NO_TASKS(list.length)));
  const head = el(
    'tr',
    null,
    TASK_COLUMNS.map((h) => txt('th', h, { class: TASK_TEXT_COLUMNS.has(h) ? '' : 'num' })),
  );
  const rows = shown.map((x) => {
    const [p, next] = [x.lastPeriod, x.nextPeriod];
    const counts = COUNTS.map((field) => {
      const bad = BAD_COUNTS.has(field) && p && p[field] > 0;
      return txt(bad ? 'td.num.bad' : 'td.num', p ? int(p[field]) : '–', { 'data-field': field });
    });
    const status = !x.enabled ? 'disabled' : x.paused ? 'paused' : 'active';
    return el(
      'tr',
      { 'data-task': x.id },
      el('td', { title: x.description }, txt('code', x.id)),
      txt('td.muted', schedule(x.schedule) + (x.zone.policy === 'user' ? ' · user zone' : ' · ' + x.zone.tz)),
      txt('td.num', int(x.users), { 'data-field': 'users' }),
      txt('td', next ? next.key + ' · ' + relative(next.dueAt) : '—', {
        'data-field': 'next',
        title: next?.zone ?? '',
      }),
      txt('td', p ? p.key : '—', { 'data-field': 'last' }),
      counts,
      el('td', null, txt(status === 'active' ? 'span.pill.ok' : 'span.pill.warn', status)),
    );
  });
  fill('tasks', el('table', { 'data-table': 'tasks' }, el('thead', null, head), el('tbody', null, rows)));
}
const NO_TASKS = (n: number) => 'No task type has users yet (' + n + ' in the catalog).';

function renderLimits(limits: O.Limit[]) {
  if (limits.length === 0) return fill('limits', empty('The catalog defines no rate limit.'));
  const rows = limits.map((l) =>
    el(
      'div.row',
      { 'data-limit': l.name },
      txt('span.name', l.name),
      meter(l.remaining, l.limit, l.remaining < l.limit * 0.1),
      el(
        'span.num',
        null,
        txt('strong', int(l.remaining), { 'data-field': 'remaining' }),
        ' of ' + int(l.limit) + ' left per ' + span(l.windowMs),
      ),
      l.deferredUntil && txt('span.pill.warn', 'deferring until ' + clock(l.deferredUntil)),
    ),
  );
  fill('limits', rows);
}

function renderDeadLetters(dlq: O.DeadLetters) {
  const total = dlq.total > dlq.items.length ? 'newest ' + dlq.items.length + ' of ' + int(dlq.total) : '';
  $('dlq-total').textContent = total;
  const listed = new Set(dlq.items.map((x) => x.id));
  const extra = Object.keys(state.replays).filter((id) => !listed.has(id));
  const items = dlq.items.concat(extra.map((id) => state.replays[id]!.item));
  if (items.length === 0) return fill('dlq', empty('No dead letters.'));
  const head = el(
    'tr',
    null,
    ['Job', 'Last answer', 'Dead', ''].map((h) => txt('th', h)),
  );
  const rows = items.map((x) => {
    const r = state.replays[x.id];
    const onclick = () => replay(x);
    const button = el('button.replay', { type: 'button', disabled: !!r, text: 'Replay', onclick });
    const result = txt('span', r ? r.text : '', { 'data-field': 'replay-status', class: r ? r.cls : '' });
    return el(
      'tr',
      { 'data-dead-letter': x.id },
      el('td', null, txt('code', x.taskId), txt('div.muted', x.userId + ' · ' + x.periodKey)),
      el(
        'td.wrap',
        { title: x.lastError },
        txt('span.pill.bad', x.lastStatus ? 'HTTP ' + x.lastStatus : 'no answer'),
        txt('div.muted.clip', x.lastError),
      ),
      el(
        'td',
        { title: x.reason + ', ' + x.attempts + ' attempts', text: relative(x.deadAt) },
        txt('div.muted', x.reason.replace('_', ' ')),
      ),
      el('td.action', null, button, el('div', null, result)),
    );
  });
  fill(
    'dlq',
    el('table', { 'data-table': 'dead-letters' }, el('thead', null, head), el('tbody', null, rows)),
  );
}

// ---- replay: publish again, then follow the job until it ends
const FINAL: Record<string, string> = { succeeded: 'ok', dead: 'bad', skipped: 'muted' };
const redraw = () => state.data && renderDeadLetters(state.data.deadLetters);
async function replay(item: O.DeadLetter) {
  state.replays[item.id] = { item, text: 'replaying…', cls: 'muted' };
  redraw();
  try {
    const path = 'v1/dead-letters/' + encodeURIComponent(item.id) + '/replay';
    const res = await api<{ jobId: string }>(path, { method: 'POST' });
    follow(item.id, res.jobId, Date.now() + 120000);
  } catch (err) {
    settle(item.id, 'replay failed: ' + messageOf(err), 'bad');
  }
}
async function follow(id: string, jobId: string, until: number) {
  try {
    const job = await api<{ state: string }>('v1/jobs/' + encodeURIComponent(jobId));
    const final = FINAL[job.state];
    if (final) return settle(id, (job.state === 'succeeded' ? '✓ ' : '✗ ') + job.state, final);
    state.replays[id]!.text = job.state + '…';
    redraw();
    if (Date.now() > until) return settle(id, 'still ' + job.state, 'muted');
    setTimeout(() => follow(id, jobId, until), 500);
  } catch (err) {
    settle(id, messageOf(err), 'bad');
  }
}
function settle(id: string, text: string, cls: string) {
  state.replays[id]!.text = text;
  state.replays[id]!.cls = cls;
  redraw();
}

// ---- session
const SESSION_CONTROLS = ['refresh', 'signout', 'auto-label'];
function signIn(key: string) {
  state.key = key;
  sessionStorage.setItem(KEY, key);
  $('login').hidden = true;
  $('main').hidden = false;
  SESSION_CONTROLS.forEach((id) => ($(id).hidden = false));
  return load();
}
function signOut(message: string) {
  state.key = null;
  sessionStorage.removeItem(KEY);
  $('main').hidden = true;
  SESSION_CONTROLS.forEach((id) => ($(id).hidden = true));
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  input('key').value = '';
  input('key').focus();
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn(input('key').value.trim());
});
$('signout').addEventListener('click', () => signOut(''));
$('refresh').addEventListener('click', () => load());
$('all-tasks').addEventListener('change', () => state.data && renderTasks(state.data.taskTypes));
$('chart-task').addEventListener('change', (e) => {
  state.chart = (e.target as HTMLSelectElement).value;
  load();
});
setInterval(() => {
  if (input('auto').checked && !document.hidden) load();
}, REFRESH_MS);
if (state.key) signIn(state.key);
else signOut('');
