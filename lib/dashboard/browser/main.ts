// The dashboard's browser script: reads GET /v1/overview with the admin key and renders it; replays dead letters and
// follows each replayed job to its end. Data only via textContent. `npm run assets` bundles it into the page.
import type {
  Chart,
  DeadLetter,
  DeadLetters,
  Limit,
  Overview,
  SchedulerView,
  TaskView,
  TickSummary,
} from './overview.js';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown> | null;

const KEY = 'stagger.adminKey';
const REFRESH_MS = 5000;
const SVG = 'http://www.w3.org/2000/svg';
const base = new URL('.', location.href);
interface Replay {
  item: DeadLetter;
  text: string;
  cls: string;
}
const state: {
  key: string | null;
  data: Overview | null;
  loading: boolean;
  chart: string;
  replays: Record<string, Replay>;
} = { key: sessionStorage.getItem(KEY), data: null, loading: false, chart: '', replays: {} };

const $ = (id: string) => document.getElementById(id) as HTMLElement;
const input = (id: string) => $(id) as HTMLInputElement;
function el(tag: string, attrs: Attrs, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}
function svg(tag: string, attrs: Attrs, ...children: Child[]): SVGElement {
  const node = document.createElementNS(SVG, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}
function setAttrs(node: Element, attrs: Attrs) {
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (v === undefined || v === null || v === false) return;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'onclick') node.addEventListener('click', v as EventListener);
    else node.setAttribute(k, String(v));
  });
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
function schedule(s: TaskView['schedule']) {
  if ('cron' in s) return 'cron ' + s.cron;
  return { hour: 'hourly', day: 'daily', week: 'weekly', month: 'monthly' }[s.every] + ' ' + s.at;
}
const pct = (part: number, whole: number) =>
  whole > 0 ? Math.max(0, Math.min(100, (100 * part) / whole)) : 0;
function meter(part: number, whole: number, low?: boolean) {
  const bar = el('span', null);
  bar.style.width = pct(part, whole).toFixed(1) + '%';
  const attrs = {
    class: low ? 'meter low' : 'meter',
    role: 'meter',
    'aria-valuenow': part,
    'aria-valuemax': whole,
  };
  return el('div', attrs, bar);
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
    const data = await api<Overview>(path);
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
function stat(name: string, label: string, value: string, sub: string, cls?: string) {
  return el(
    'div',
    { class: 'stat', 'data-stat': name },
    el('div', { class: 'label', text: label }),
    el('div', { class: 'value' + (cls ? ' ' + cls : ''), 'data-value': '', text: value }),
    el('div', { class: 'sub', text: sub || '\u00a0' }),
  );
}

function render(d: Overview) {
  const s = d.scheduler;
  const t = (name: string) => d.totals[name] ?? 0;
  const pending = s.slots.reduce((n, x) => n + Math.max(0, x.total - x.count), 0);
  const users = d.taskTypes.reduce((n, x) => n + x.users, 0);
  const failedAttempts = t('failed') + t('dead');
  const tick = s.lastTick;
  fill(
    'stats',
    stat(
      'lastTick',
      'Last tick',
      tick ? relative(tick.at) : 'never',
      tick ? 'fence ' + tick.fence + ' · ' + clock(tick.at) : '',
    ),
    stat(
      'lock',
      'Lock',
      s.lock.held ? 'held' : 'free',
      s.lock.held ? String(s.lock.holder) : 'no tick running',
    ),
    stat('activeSlots', 'Slots fanning out', int(s.slots.length), int(pending) + ' jobs to publish'),
    stat('subscriptions', 'Task users', int(users), 'over ' + d.taskTypes.length + ' task types'),
    stat(
      'started',
      'Started',
      int(t('started')),
      int(t('succeeded')) + ' succeeded · attempts, retries and run-now included',
    ),
    stat(
      'failed',
      'Failed attempts',
      int(failedAttempts),
      int(t('failed')) + ' retryable · ' + int(t('dead')) + ' permanent',
      failedAttempts > 0 ? 'bad' : '',
    ),
    stat('deferred', 'Deferred', int(t('deferred') + t('late')), 'by the rate limiter'),
    stat(
      'deadLetters',
      'Dead letters',
      int(d.deadLetters.total),
      int(t('replayed')) + ' replayed so far',
      d.deadLetters.total > 0 ? 'bad' : '',
    ),
  );
  renderChart(d);
  renderScheduler(s);
  renderTasks(d.taskTypes);
  renderLimits(d.limits);
  renderDeadLetters(d.deadLetters);
}

function renderChart(d: Overview) {
  const select = $('chart-task');
  const options = d.taskTypes.filter((x) => x.lastPeriod);
  select.textContent = '';
  options.forEach((x) =>
    append(select, el('option', { value: x.id, text: x.id, selected: d.chart && d.chart.taskId === x.id })),
  );
  select.hidden = options.length < 2;
  const c: Chart | null = d.chart;
  if (!c) {
    const text =
      'No period claimed yet: the chart shows the last window once the scheduler has fanned one out.';
    fill('chart', el('p', { class: 'empty', text }));
    return;
  }
  const [W, H, L, R, T, B] = [640, 190, 34, 8, 10, 24];
  const n = c.counts.length;
  const even = c.planned / n;
  // One more slot after the window for starts QStash's whole-second delivery made up to a second late.
  const slots = n + 1;
  const top = Math.max(1, even * 1.6, c.after, ...c.counts);
  const bw = (W - L - R) / slots;
  const y = (v: number) => T + (H - T - B) * (1 - v / top);
  const start = new Date(c.startAt).getTime();
  const end = L + n * bw;
  const bar = (cls: string, i: number, v: number, label: string) =>
    svg(
      'rect',
      {
        class: cls,
        x: (L + i * bw + 0.5).toFixed(1),
        y: y(v).toFixed(1),
        width: Math.max(1, bw - 1).toFixed(1),
        height: (H - B - y(v)).toFixed(1),
        'data-count': v,
      },
      svg('title', { text: label }),
    );
  const bars = c.counts.map((v, i) =>
    bar(
      'bar',
      i,
      v,
      clock(new Date(start + i * c.barMs).toISOString()) + ' +' + span(c.barMs) + ': ' + v + ' started',
    ),
  );
  const started = c.counts.reduce((a, b) => a + b, 0);
  const label = 'Job starts per ' + span(c.barMs) + ' of ' + c.taskId + ' ' + c.periodKey;
  const afterLabel = c.after + ' started just after the window (whole-second delivery)';
  fill(
    'chart',
    svg(
      'svg',
      {
        class: 'chart',
        viewBox: '0 0 ' + W + ' ' + H,
        role: 'img',
        'data-chart': c.taskId,
        'aria-label': label,
      },
      svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }),
      bars,
      c.after > 0 ? bar('after', n, c.after, afterLabel) : null,
      c.after > 0
        ? svg('text', {
            class: 'after-count',
            x: (end + bw / 2).toFixed(1),
            y: (y(c.after) - 4).toFixed(1),
            'text-anchor': 'middle',
            'data-field': 'after',
            text: c.after,
          })
        : null,
      svg('line', { class: 'axis', x1: end.toFixed(1), x2: end.toFixed(1), y1: T, y2: H - B }),
      svg(
        'line',
        { class: 'even', x1: L, x2: end.toFixed(1), y1: y(even).toFixed(1), y2: y(even).toFixed(1) },
        svg('title', { text: 'perfectly even: ' + even.toFixed(2) + ' per bar' }),
      ),
      svg('text', { x: L - 6, y: y(top) + 4, 'text-anchor': 'end', text: Math.round(top) }),
      svg('text', { x: L - 6, y: H - B + 4, 'text-anchor': 'end', text: '0' }),
      svg('text', { x: L, y: H - 6, text: clock(c.startAt) }),
      svg('text', {
        x: end.toFixed(1),
        y: H - 6,
        'text-anchor': 'end',
        text: clock(new Date(start + c.windowMs).toISOString()),
      }),
    ),
    el(
      'p',
      { class: 'muted', 'data-chart-summary': '' },
      el('code', { text: c.taskId + ' ' + c.periodKey }),
      ' · ',
      el('span', { 'data-field': 'chart-started', text: int(started + c.after) }),
      ' of ',
      el('span', { 'data-field': 'chart-planned', text: int(c.planned) }),
      ' started over ' +
        span(c.windowMs) +
        ' · one bar = ' +
        span(c.barMs) +
        ' · dashed: perfectly even' +
        (c.after
          ? ' · grey: ' + int(c.after) + ' just after the window (QStash delivers in whole seconds)'
          : '') +
        (c.outside ? ' · ' + int(c.outside) + ' outside the window' : ''),
    ),
  );
}

function renderScheduler(s: SchedulerView) {
  const tick = s.lastTick;
  const did = tick && (tick.summary as TickSummary | null);
  const lock = s.lock;
  const kv = el(
    'dl',
    { class: 'kv' },
    el('dt', { text: 'Last tick' }),
    el('dd', { text: tick ? when(tick.at) + ' (' + relative(tick.at) + '), fence ' + tick.fence : 'never' }),
    did ? el('dt', { text: 'It did' }) : null,
    did
      ? el('dd', {
          'data-field': 'last-tick-did',
          text:
            'claimed ' +
            int(did.claimed) +
            ' · published ' +
            int(did.published) +
            ' · done ' +
            int(did.done) +
            (did.resumed ? ' · resumed ' + int(did.resumed) : '') +
            (did.continued ? ' · handed over ' + int(did.continued) : '') +
            (did.failed ? ' · failed ' + int(did.failed) : ''),
        })
      : null,
    el('dt', { text: 'Lock' }),
    el('dd', {
      'data-field': 'holder',
      text: lock.held
        ? 'held by ' + lock.holder + ' (fence ' + lock.fence + ', ' + span(lock.ttlMs ?? 0) + ' left)'
        : 'free',
    }),
  );
  const slots =
    s.slots.length === 0
      ? el('p', { class: 'empty', text: 'No slot is fanning out.' })
      : s.slots.map((x) =>
          el(
            'div',
            { class: 'row', 'data-slot': x.slot },
            el('span', { class: 'name', text: x.taskId }),
            el('span', { class: 'muted', text: x.periodKey + (x.group === '_' ? '' : ' ' + x.group) }),
            meter(x.count, x.total),
            el('span', { class: 'num', 'data-field': 'progress', text: int(x.count) + ' / ' + int(x.total) }),
          ),
        );
  const open = s.unsettled || [];
  const unsettled =
    open.length === 0
      ? el('p', {
          class: 'empty',
          text: 'Every ended window has all its jobs run, dead-lettered or skipped.',
        })
      : open.map((x) =>
          el(
            'div',
            { class: 'row bad', 'data-unsettled': x.taskId + ':' + x.periodKey },
            el('span', { class: 'name', text: x.taskId }),
            el('span', { class: 'muted', text: x.periodKey + ' · window ended ' + relative(x.windowEnd) }),
            meter(x.settled, x.planned),
            el('span', { class: 'num', 'data-field': 'unsettled', text: int(x.unsettled) + ' not settled' }),
          ),
        );
  const h2 = (text: string) => el('h2', { text });
  fill('scheduler', kv, h2('Slots in progress'), slots, h2('Periods not settled'), unsettled);
}

const TASK_COLUMNS = [
  'Task type',
  'Schedule',
  'Users',
  'Next period',
  'Last period',
  'Planned',
  'Started',
  'Succeeded',
  'Failed',
  'Dead',
  'Skipped',
  'Deferred',
  'State',
];

function renderTasks(list: TaskView[]) {
  const all = input('all-tasks').checked;
  const shown = list.filter((x) => all || x.users > 0 || x.lastPeriod || x.paused);
  if (shown.length === 0) {
    fill(
      'tasks',
      el('p', { class: 'empty', text: 'No task type has users yet (' + list.length + ' in the catalog).' }),
    );
    return;
  }
  const head = el(
    'tr',
    null,
    TASK_COLUMNS.map((h, i) =>
      el('th', { class: i >= 2 && i !== 3 && i !== 4 && i !== 12 ? 'num' : '', text: h }),
    ),
  );
  const rows = shown.map((x) => {
    const p = x.lastPeriod;
    const num = (field: string, v: number | undefined, bad?: boolean) =>
      el('td', {
        class: 'num' + (bad && v && v > 0 ? ' bad' : ''),
        'data-field': field,
        text: p ? int(v ?? 0) : '–',
      });
    const pill = (cls: string, text: string) => el('span', { class: 'pill ' + cls, text });
    const status = !x.enabled
      ? pill('warn', 'disabled')
      : x.paused
        ? pill('warn', 'paused')
        : pill('ok', 'active');
    const next = x.nextPeriod;
    return el(
      'tr',
      { 'data-task': x.id },
      el('td', { title: x.description }, el('code', { text: x.id })),
      el('td', {
        class: 'muted',
        text: schedule(x.schedule) + (x.zone.policy === 'user' ? ' · user zone' : ' · ' + x.zone.tz),
      }),
      el('td', { class: 'num', 'data-field': 'users', text: int(x.users) }),
      el('td', {
        'data-field': 'next',
        title: next ? next.zone : '',
        text: next ? next.key + ' · ' + relative(next.dueAt) : '—',
      }),
      el('td', { 'data-field': 'last', text: p ? p.key : '—' }),
      num('planned', p?.planned),
      num('started', p?.started),
      num('succeeded', p?.succeeded),
      num('failed', p?.failed, true),
      num('dead', p?.dead, true),
      num('skipped', p?.skipped),
      num('deferred', p?.deferred),
      el('td', null, status),
    );
  });
  fill('tasks', el('table', { 'data-table': 'tasks' }, el('thead', null, head), el('tbody', null, rows)));
}

function renderLimits(limits: Limit[]) {
  if (limits.length === 0) {
    fill('limits', el('p', { class: 'empty', text: 'The catalog defines no rate limit.' }));
    return;
  }
  fill(
    'limits',
    limits.map((l) =>
      el(
        'div',
        { class: 'row', 'data-limit': l.name },
        el('span', { class: 'name', text: l.name }),
        meter(l.remaining, l.limit, l.remaining < l.limit * 0.1),
        el(
          'span',
          { class: 'num' },
          el('strong', { 'data-field': 'remaining', text: int(l.remaining) }),
          ' of ' + int(l.limit) + ' left per ' + span(l.windowMs),
        ),
        l.deferredUntil
          ? el('span', { class: 'pill warn', text: 'deferring until ' + clock(l.deferredUntil) })
          : null,
      ),
    ),
  );
}

function renderDeadLetters(dlq: DeadLetters) {
  const total = dlq.total > dlq.items.length ? 'newest ' + dlq.items.length + ' of ' + int(dlq.total) : '';
  $('dlq-total').textContent = total;
  const listed = new Set(dlq.items.map((x) => x.id));
  const extra = Object.keys(state.replays)
    .filter((id) => !listed.has(id))
    .map((id) => state.replays[id]!.item);
  const items = dlq.items.concat(extra);
  if (items.length === 0) {
    fill('dlq', el('p', { class: 'empty', text: 'No dead letters.' }));
    return;
  }
  const head = el(
    'tr',
    null,
    ['Job', 'Last answer', 'Dead', ''].map((h) => el('th', { text: h })),
  );
  const rows = items.map((x) => {
    const r = state.replays[x.id];
    const onclick = () => replay(x);
    const button = el('button', { type: 'button', class: 'replay', disabled: !!r, text: 'Replay', onclick });
    const result = el('span', {
      'data-field': 'replay-status',
      class: r ? r.cls : '',
      text: r ? r.text : '',
    });
    return el(
      'tr',
      { 'data-dead-letter': x.id },
      el(
        'td',
        null,
        el('code', { text: x.taskId }),
        el('div', { class: 'muted', text: x.userId + ' · ' + x.periodKey }),
      ),
      el(
        'td',
        { class: 'wrap', title: x.lastError },
        el('span', { class: 'pill bad', text: x.lastStatus ? 'HTTP ' + x.lastStatus : 'no answer' }),
        el('div', { class: 'muted clip', text: x.lastError }),
      ),
      el(
        'td',
        { title: x.reason + ', ' + x.attempts + ' attempts', text: relative(x.deadAt) },
        el('div', { class: 'muted', text: x.reason.replace('_', ' ') }),
      ),
      el('td', { class: 'action' }, button, el('div', null, result)),
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
async function replay(item: DeadLetter) {
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
