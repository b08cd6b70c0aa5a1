// The dashboard's HTML shell; page.ts inlines the style and script at the placeholders. Text ids are what the script and tests use.
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>stagger · dashboard</title>
<style>/*STYLE*/</style>
</head>
<body>
<header class="top">
  <h1>stagger</h1>
  <span class="muted" id="updated"></span>
  <span class="spacer"></span>
  <label class="muted toggle" id="auto-label" hidden><input type="checkbox" id="auto" checked> auto-refresh</label>
  <button type="button" id="refresh" hidden>Refresh</button>
  <button type="button" id="signout" class="quiet" hidden>Forget key</button>
</header>
<p class="banner error" id="banner" role="alert" hidden></p>
<section class="card login" id="login" hidden>
  <form id="login-form">
    <label for="key">Admin API key</label>
    <input id="key" name="key" type="password" autocomplete="off" spellcheck="false" required>
    <button type="submit">Open dashboard</button>
  </form>
  <p class="muted">The key stays in this browser tab (sessionStorage) and is sent as a Bearer header to the admin API; the page itself holds no data.</p>
  <p class="error" id="login-error" role="alert"></p>
</section>
<main id="main" hidden>
  <section class="stats" id="stats"></section>
  <div class="grid">
    <section class="card">
      <div class="card-head"><h2>Job starts over the window</h2><select id="chart-task" aria-label="Task type of the chart"></select></div>
      <div id="chart"></div>
    </section>
    <section class="card">
      <div class="card-head"><h2>Scheduler</h2></div>
      <div id="scheduler"></div>
    </section>
  </div>
  <section class="card">
    <div class="card-head"><h2>Task types</h2><label class="muted toggle"><input type="checkbox" id="all-tasks"> show all</label></div>
    <div id="tasks" class="scroll"></div>
  </section>
  <div class="grid flip">
    <section class="card">
      <div class="card-head"><h2>Rate limits</h2></div>
      <div id="limits"></div>
    </section>
    <section class="card">
      <div class="card-head"><h2>Dead letters</h2><span class="muted" id="dlq-total"></span></div>
      <div id="dlq" class="scroll"></div>
    </section>
  </div>
</main>
<script>/*SCRIPT*/</script>
</body>
</html>
`;
