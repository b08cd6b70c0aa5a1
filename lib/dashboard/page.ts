// The dashboard page: committed assets (HTML, CSS, JS as string modules, so the bundle carries them) in one response with a hash-based CSP.
//
// Served without auth on purpose: the page holds no data. It asks for an admin key, keeps it in
// sessionStorage (this tab only) and sends it as a Bearer header to the admin API, which checks it
// on every call. A browser cannot attach that header to a page navigation, and a cookie login would
// need sessions and CSRF defences this API does not otherwise have.
import { createHash } from 'node:crypto';
import type { HttpResult } from '../http/response.js';
import { DASHBOARD_HTML } from './assets/page-html.js';
import { DASHBOARD_JS } from './assets/page-script.generated.js';
import { DASHBOARD_CSS } from './assets/page-style.js';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export interface DashboardPage {
  html: string;
  csp: string;
}

/** Inlines the style and script into the HTML; the CSP allows exactly those two blocks and same-origin API calls. */
export function buildPage(html: string, css: string, js: string): DashboardPage {
  if (!html.includes('/*STYLE*/') || !html.includes('/*SCRIPT*/'))
    throw new Error('dashboard.html lacks its placeholders');
  const style = `\n${css}`;
  const script = `\n${js}`;
  const page = html.replace('/*STYLE*/', () => style).replace('/*SCRIPT*/', () => script);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html: page, csp };
}

let cached: DashboardPage | undefined;

export function dashboardPage(): DashboardPage {
  cached ??= buildPage(DASHBOARD_HTML, DASHBOARD_CSS, DASHBOARD_JS);
  return cached;
}

export function pageResult(page: DashboardPage): HttpResult {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': page.csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    },
    body: page.html,
  };
}
