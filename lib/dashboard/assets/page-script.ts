// The dashboard's script (plain ES2020, no template literals so it can live in this string): reads GET /v1/overview with
// the admin key and renders it; replays dead letters and follows each replayed job to its end. Data only via textContent.
export const DASHBOARD_JS = String.raw`'use strict';
(function () {
  var KEY = 'stagger.adminKey';
  var REFRESH_MS = 5000;
  var SVG = 'http://www.w3.org/2000/svg';
  var base = new URL('.', location.href);
  var state = { key: sessionStorage.getItem(KEY), data: null, loading: false, chart: '', replays: {} };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'onclick') node.addEventListener('click', v);
      else node.setAttribute(k, String(v));
    });
  }
  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  function fill(id) {
    var node = $(id);
    node.textContent = '';
    for (var i = 1; i < arguments.length; i++) append(node, arguments[i]);
  }

  // ---- formatting
  var nf = new Intl.NumberFormat('en-US');
  function int(n) { return nf.format(n); }
  function clock(iso) { return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }); }
  function when(iso) {
    var d = new Date(iso);
    var today = new Date().toDateString() === d.toDateString();
    return today ? clock(iso) : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }
  function span(ms) {
    var s = Math.abs(ms) / 1000;
    if (s < 90) return Math.round(s) + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    if (s < 129600) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }
  function relative(iso) {
    var ms = new Date(iso).getTime() - Date.now();
    return ms >= 0 ? 'in ' + span(ms) : span(ms) + ' ago';
  }
  function schedule(s) {
    if (s.cron) return 'cron ' + s.cron;
    return { hour: 'hourly', day: 'daily', week: 'weekly', month: 'monthly' }[s.every] + ' ' + s.at;
  }
  function pct(part, whole) { return whole > 0 ? Math.max(0, Math.min(100, (100 * part) / whole)) : 0; }
  function meter(part, whole, low) {
    var bar = el('span');
    bar.style.width = pct(part, whole).toFixed(1) + '%';
    return el('div', { class: low ? 'meter low' : 'meter', role: 'meter', 'aria-valuenow': part, 'aria-valuemax': whole }, bar);
  }

  // ---- API
  function api(path, init) {
    var opts = init || {};
    opts.headers = { authorization: 'Bearer ' + state.key };
    return fetch(new URL(path, base), opts).then(function (res) {
      if (res.status === 401) { signOut('That key was refused (401).'); throw new Error('unauthorized'); }
      return res.text().then(function (text) {
        var body = text ? JSON.parse(text) : null;
        if (!res.ok) throw new Error((body && body.error && body.error.message) || ('HTTP ' + res.status));
        return body;
      });
    });
  }

  function load() {
    if (!state.key || state.loading) return Promise.resolve();
    state.loading = true;
    var path = 'v1/overview' + (state.chart ? '?chart=' + encodeURIComponent(state.chart) : '');
    return api(path).then(function (data) {
      state.data = data;
      $('banner').hidden = true;
      render(data);
      $('updated').textContent = 'updated ' + clock(data.now);
      document.body.setAttribute('data-loaded', data.now);
    }).catch(function (err) {
      if (err.message === 'unauthorized') return;
      $('banner').textContent = 'Could not load the overview: ' + err.message;
      $('banner').hidden = false;
    }).then(function () { state.loading = false; });
  }

  // ---- rendering
  function stat(name, label, value, sub, cls) {
    return el('div', { class: 'stat', 'data-stat': name },
      el('div', { class: 'label', text: label }),
      el('div', { class: 'value' + (cls ? ' ' + cls : ''), 'data-value': '', text: value }),
      el('div', { class: 'sub', text: sub || '\u00a0' }));
  }

  function render(d) {
    var s = d.scheduler;
    var t = d.totals;
    var pending = s.slots.reduce(function (n, x) { return n + Math.max(0, x.total - x.count); }, 0);
    var users = d.taskTypes.reduce(function (n, x) { return n + x.users; }, 0);
    var failedAttempts = t.failed + t.dead;
    fill('stats',
      stat('lastTick', 'Last tick', s.lastTick ? relative(s.lastTick.at) : 'never', s.lastTick ? 'fence ' + s.lastTick.fence + ' · ' + clock(s.lastTick.at) : ''),
      stat('lock', 'Lock', s.lock.held ? 'held' : 'free', s.lock.held ? s.lock.holder : 'no tick running'),
      stat('activeSlots', 'Slots fanning out', int(s.slots.length), int(pending) + ' jobs to publish'),
      stat('subscriptions', 'Task users', int(users), 'over ' + d.taskTypes.length + ' task types'),
      stat('started', 'Started', int(t.started), int(t.succeeded) + ' succeeded · attempts, retries and run-now included'),
      stat('failed', 'Failed attempts', int(failedAttempts), int(t.failed) + ' retryable · ' + int(t.dead) + ' permanent', failedAttempts > 0 ? 'bad' : ''),
      stat('deferred', 'Deferred', int(t.deferred + t.late), 'by the rate limiter'),
      stat('deadLetters', 'Dead letters', int(d.deadLetters.total), int(t.replayed) + ' replayed so far', d.deadLetters.total > 0 ? 'bad' : ''));
    renderChart(d);
    renderScheduler(s);
    renderTasks(d.taskTypes);
    renderLimits(d.limits);
    renderDeadLetters(d.deadLetters);
  }

  function renderChart(d) {
    var select = $('chart-task');
    var options = d.taskTypes.filter(function (x) { return x.lastPeriod; });
    select.textContent = '';
    options.forEach(function (x) { append(select, el('option', { value: x.id, text: x.id, selected: d.chart && d.chart.taskId === x.id })); });
    select.hidden = options.length < 2;
    var c = d.chart;
    if (!c) { fill('chart', el('p', { class: 'empty', text: 'No period claimed yet: the chart shows the last window once the scheduler has fanned one out.' })); return; }
    var W = 640, H = 190, L = 34, R = 8, T = 10, B = 24;
    var n = c.counts.length;
    var even = c.planned / n;
    // One more slot after the window for starts QStash's whole-second delivery made up to a second late.
    var slots = n + 1;
    var top = Math.max(1, even * 1.6, c.after, Math.max.apply(null, c.counts));
    var bw = (W - L - R) / slots;
    var y = function (v) { return T + (H - T - B) * (1 - v / top); };
    var start = new Date(c.startAt).getTime();
    var end = L + n * bw;
    var bar = function (cls, i, v, label) {
      return svg('rect', { class: cls, x: (L + i * bw + 0.5).toFixed(1), y: y(v).toFixed(1), width: Math.max(1, bw - 1).toFixed(1),
        height: (H - B - y(v)).toFixed(1), 'data-count': v }, svg('title', { text: label }));
    };
    var bars = c.counts.map(function (v, i) {
      return bar('bar', i, v, clock(new Date(start + i * c.barMs).toISOString()) + ' +' + span(c.barMs) + ': ' + v + ' started');
    });
    var started = c.counts.reduce(function (a, b) { return a + b; }, 0);
    fill('chart',
      svg('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'data-chart': c.taskId,
        'aria-label': 'Job starts per ' + span(c.barMs) + ' of ' + c.taskId + ' ' + c.periodKey },
        svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }),
        bars,
        c.after > 0 ? bar('after', n, c.after, c.after + ' started just after the window (whole-second delivery)') : null,
        c.after > 0 ? svg('text', { class: 'after-count', x: (end + bw / 2).toFixed(1), y: (y(c.after) - 4).toFixed(1), 'text-anchor': 'middle', 'data-field': 'after', text: c.after }) : null,
        svg('line', { class: 'axis', x1: end.toFixed(1), x2: end.toFixed(1), y1: T, y2: H - B }),
        svg('line', { class: 'even', x1: L, x2: end.toFixed(1), y1: y(even).toFixed(1), y2: y(even).toFixed(1) },
          svg('title', { text: 'perfectly even: ' + even.toFixed(2) + ' per bar' })),
        svg('text', { x: L - 6, y: y(top) + 4, 'text-anchor': 'end', text: Math.round(top) }),
        svg('text', { x: L - 6, y: H - B + 4, 'text-anchor': 'end', text: '0' }),
        svg('text', { x: L, y: H - 6, text: clock(c.startAt) }),
        svg('text', { x: end.toFixed(1), y: H - 6, 'text-anchor': 'end', text: clock(new Date(start + c.windowMs).toISOString()) })),
      el('p', { class: 'muted', 'data-chart-summary': '' },
        el('code', { text: c.taskId + ' ' + c.periodKey }), ' · ',
        el('span', { 'data-field': 'chart-started', text: int(started + c.after) }), ' of ', el('span', { 'data-field': 'chart-planned', text: int(c.planned) }),
        ' started over ' + span(c.windowMs) + ' · one bar = ' + span(c.barMs) + ' · dashed: perfectly even' +
        (c.after ? ' · grey: ' + int(c.after) + ' just after the window (QStash delivers in whole seconds)' : '') +
        (c.outside ? ' · ' + int(c.outside) + ' outside the window' : '')));
  }

  function renderScheduler(s) {
    var did = s.lastTick && s.lastTick.summary;
    var kv = el('dl', { class: 'kv' },
      el('dt', { text: 'Last tick' }), el('dd', { text: s.lastTick ? when(s.lastTick.at) + ' (' + relative(s.lastTick.at) + '), fence ' + s.lastTick.fence : 'never' }),
      did ? el('dt', { text: 'It did' }) : null,
      did ? el('dd', { 'data-field': 'last-tick-did', text: 'claimed ' + int(did.claimed) + ' · published ' + int(did.published) + ' · done ' + int(did.done) +
        (did.resumed ? ' · resumed ' + int(did.resumed) : '') + (did.continued ? ' · handed over ' + int(did.continued) : '') +
        (did.failed ? ' · failed ' + int(did.failed) : '') }) : null,
      el('dt', { text: 'Lock' }), el('dd', { 'data-field': 'holder', text: s.lock.held ? 'held by ' + s.lock.holder + ' (fence ' + s.lock.fence + ', ' + span(s.lock.ttlMs) + ' left)' : 'free' }));
    var slots = s.slots.length === 0
      ? el('p', { class: 'empty', text: 'No slot is fanning out.' })
      : s.slots.map(function (x) {
        return el('div', { class: 'row', 'data-slot': x.slot },
          el('span', { class: 'name', text: x.taskId }),
          el('span', { class: 'muted', text: x.periodKey + (x.group === '_' ? '' : ' ' + x.group) }),
          meter(x.count, x.total),
          el('span', { class: 'num', 'data-field': 'progress', text: int(x.count) + ' / ' + int(x.total) }));
      });
    var unsettled = (s.unsettled || []).length === 0
      ? el('p', { class: 'empty', text: 'Every ended window has all its jobs run, dead-lettered or skipped.' })
      : s.unsettled.map(function (x) {
        return el('div', { class: 'row bad', 'data-unsettled': x.taskId + ':' + x.periodKey },
          el('span', { class: 'name', text: x.taskId }),
          el('span', { class: 'muted', text: x.periodKey + ' · window ended ' + relative(x.windowEnd) }),
          meter(x.settled, x.planned),
          el('span', { class: 'num', 'data-field': 'unsettled', text: int(x.unsettled) + ' not settled' }));
      });
    fill('scheduler', kv, el('h2', { text: 'Slots in progress' }), slots, el('h2', { text: 'Periods not settled' }), unsettled);
  }

  function renderTasks(list) {
    var all = $('all-tasks').checked;
    var shown = list.filter(function (x) { return all || x.users > 0 || x.lastPeriod || x.paused; });
    if (shown.length === 0) { fill('tasks', el('p', { class: 'empty', text: 'No task type has users yet (' + list.length + ' in the catalog).' })); return; }
    var head = el('tr', null, ['Task type', 'Schedule', 'Users', 'Next period', 'Last period', 'Planned', 'Started', 'Succeeded', 'Failed', 'Dead', 'Skipped', 'Deferred', 'State']
      .map(function (h, i) { return el('th', { class: i >= 2 && i !== 3 && i !== 4 && i !== 12 ? 'num' : '', text: h }); }));
    var rows = shown.map(function (x) {
      var p = x.lastPeriod;
      var num = function (field, v, bad) { return el('td', { class: 'num' + (bad && v > 0 ? ' bad' : ''), 'data-field': field, text: p ? int(v) : '–' }); };
      var status = !x.enabled ? el('span', { class: 'pill warn', text: 'disabled' }) : x.paused ? el('span', { class: 'pill warn', text: 'paused' }) : el('span', { class: 'pill ok', text: 'active' });
      return el('tr', { 'data-task': x.id },
        el('td', { title: x.description }, el('code', { text: x.id })),
        el('td', { class: 'muted', text: schedule(x.schedule) + (x.zone.policy === 'user' ? ' · user zone' : ' · ' + x.zone.tz) }),
        el('td', { class: 'num', 'data-field': 'users', text: int(x.users) }),
        el('td', { 'data-field': 'next', title: x.nextPeriod ? x.nextPeriod.zone : '', text: x.nextPeriod ? x.nextPeriod.key + ' · ' + relative(x.nextPeriod.dueAt) : '—' }),
        el('td', { 'data-field': 'last', text: p ? p.key : '—' }),
        num('planned', p && p.planned), num('started', p && p.started), num('succeeded', p && p.succeeded),
        num('failed', p && p.failed, true), num('dead', p && p.dead, true), num('skipped', p && p.skipped), num('deferred', p && p.deferred),
        el('td', null, status));
    });
    fill('tasks', el('table', { 'data-table': 'tasks' }, el('thead', null, head), el('tbody', null, rows)));
  }

  function renderLimits(limits) {
    if (limits.length === 0) { fill('limits', el('p', { class: 'empty', text: 'The catalog defines no rate limit.' })); return; }
    fill('limits', limits.map(function (l) {
      return el('div', { class: 'row', 'data-limit': l.name },
        el('span', { class: 'name', text: l.name }),
        meter(l.remaining, l.limit, l.remaining < l.limit * 0.1),
        el('span', { class: 'num' },
          el('strong', { 'data-field': 'remaining', text: int(l.remaining) }), ' of ' + int(l.limit) + ' left per ' + span(l.windowMs)),
        l.deferredUntil ? el('span', { class: 'pill warn', text: 'deferring until ' + clock(l.deferredUntil) }) : null);
    }));
  }

  function renderDeadLetters(dlq) {
    $('dlq-total').textContent = dlq.total > dlq.items.length ? 'newest ' + dlq.items.length + ' of ' + int(dlq.total) : '';
    var listed = {};
    dlq.items.forEach(function (x) { listed[x.id] = true; });
    var extra = Object.keys(state.replays).filter(function (id) { return !listed[id]; }).map(function (id) { return state.replays[id].item; });
    var items = dlq.items.concat(extra);
    if (items.length === 0) { fill('dlq', el('p', { class: 'empty', text: 'No dead letters.' })); return; }
    var head = el('tr', null, ['Job', 'Last answer', 'Dead', ''].map(function (h) { return el('th', { text: h }); }));
    var rows = items.map(function (x) {
      var r = state.replays[x.id];
      var button = el('button', { type: 'button', class: 'replay', disabled: !!r, text: 'Replay', onclick: function () { replay(x); } });
      var result = el('span', { 'data-field': 'replay-status', class: r ? r.cls : '', text: r ? r.text : '' });
      return el('tr', { 'data-dead-letter': x.id },
        el('td', null, el('code', { text: x.taskId }), el('div', { class: 'muted', text: x.userId + ' · ' + x.periodKey })),
        el('td', { class: 'wrap', title: x.lastError }, el('span', { class: 'pill bad', text: x.lastStatus ? 'HTTP ' + x.lastStatus : 'no answer' }),
          el('div', { class: 'muted clip', text: x.lastError })),
        el('td', { title: x.reason + ', ' + x.attempts + ' attempts', text: relative(x.deadAt) },
          el('div', { class: 'muted', text: x.reason.replace('_', ' ') })),
        el('td', { class: 'action' }, button, el('div', null, result)));
    });
    fill('dlq', el('table', { 'data-table': 'dead-letters' }, el('thead', null, head), el('tbody', null, rows)));
  }

  // ---- replay: publish again, then follow the job until it ends
  var FINAL = { succeeded: 'ok', dead: 'bad', skipped: 'muted' };
  function replay(item) {
    state.replays[item.id] = { item: item, text: 'replaying…', cls: 'muted' };
    renderDeadLetters(state.data.deadLetters);
    api('v1/dead-letters/' + encodeURIComponent(item.id) + '/replay', { method: 'POST' }).then(function (res) {
      follow(item.id, res.jobId, Date.now() + 120000);
    }).catch(function (err) { settle(item.id, 'replay failed: ' + err.message, 'bad'); });
  }
  function follow(id, jobId, until) {
    api('v1/jobs/' + encodeURIComponent(jobId)).then(function (job) {
      if (FINAL[job.state]) return settle(id, (job.state === 'succeeded' ? '✓ ' : '✗ ') + job.state, FINAL[job.state]);
      state.replays[id].text = job.state + '…';
      renderDeadLetters(state.data.deadLetters);
      if (Date.now() > until) return settle(id, 'still ' + job.state, 'muted');
      setTimeout(function () { follow(id, jobId, until); }, 500);
    }).catch(function (err) { settle(id, err.message, 'bad'); });
  }
  function settle(id, text, cls) {
    state.replays[id].text = text;
    state.replays[id].cls = cls;
    renderDeadLetters(state.data.deadLetters);
  }

  // ---- session
  function signIn(key) {
    state.key = key;
    sessionStorage.setItem(KEY, key);
    $('login').hidden = true;
    $('main').hidden = false;
    ['refresh', 'signout', 'auto-label'].forEach(function (id) { $(id).hidden = false; });
    return load();
  }
  function signOut(message) {
    state.key = null;
    sessionStorage.removeItem(KEY);
    $('main').hidden = true;
    ['refresh', 'signout', 'auto-label'].forEach(function (id) { $(id).hidden = true; });
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('key').value = '';
    $('key').focus();
  }

  $('login-form').addEventListener('submit', function (e) { e.preventDefault(); signIn($('key').value.trim()); });
  $('signout').addEventListener('click', function () { signOut(''); });
  $('refresh').addEventListener('click', function () { load(); });
  $('all-tasks').addEventListener('change', function () { if (state.data) renderTasks(state.data.taskTypes); });
  $('chart-task').addEventListener('change', function (e) { state.chart = e.target.value; load(); });
  setInterval(function () { if ($('auto').checked && !document.hidden) load(); }, REFRESH_MS);
  if (state.key) signIn(state.key); else signOut('');
})();
`;
