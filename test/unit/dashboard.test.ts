// The dashboard, pure parts: starts binned into even bars of a window, and a page whose CSP admits exactly its own blocks.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { binStarts, startBuckets } from '../../lib/dashboard/starts-chart.js';
import { buildPage, dashboardPage, pageResult } from '../../lib/dashboard/page.js';
import { DASHBOARD_JS } from '../../lib/dashboard/assets/page-script.generated.js';

describe('starts chart', () => {
  it('reads only the s:<ms> fields of period stats', () => {
    expect([...startBuckets({ planned: 9, started: 4, 's:1000': 2, 's:2000': '2', 's:x': 1 })]).toEqual([
      [1000, 2],
      [2000, 2],
    ]);
  });

  it('bins whole buckets into at most 60 bars from the window start', () => {
    const buckets = new Map<number, number>();
    for (let t = 0; t < 600_000; t += 5_000) buckets.set(1_000_000 + t, 2);
    const bins = binStarts(buckets, { startAt: 1_000_000, windowMs: 600_000 }, 5_000);
    expect(bins.barMs).toBe(10_000);
    expect(bins.counts).toEqual(new Array(60).fill(4));
    expect(bins.outside).toBe(0);
  });

  it('keeps one bar per bucket when the window is short, and puts a bucket starting just before the window in the first bar', () => {
    const bins = binStarts(
      new Map([
        [999_500, 1],
        [1_000_500, 2],
        [1_019_500, 3],
      ]),
      { startAt: 1_000_200, windowMs: 20_000 },
      1_000,
    );
    expect(bins.barMs).toBe(1_000);
    expect(bins.counts).toHaveLength(20);
    expect(bins.counts[0]).toBe(3);
    expect(bins.counts[19]).toBe(3);
    expect(bins.outside).toBe(0);
  });

  it('keeps the bucket right after the window apart (whole-second delivery), and anything later outside', () => {
    const bins = binStarts(new Map([[1_020_500, 1]]), { startAt: 1_000_200, windowMs: 20_000 }, 1_000);
    expect([bins.counts[19], bins.after, bins.outside]).toEqual([0, 1, 0]);
    expect(
      binStarts(new Map([[1_021_500, 1]]), { startAt: 1_000_200, windowMs: 20_000 }, 1_000),
    ).toMatchObject({ after: 0, outside: 1 });
  });

  it('counts starts far outside the window apart', () => {
    const bins = binStarts(
      new Map([
        [0, 5],
        [2_000_000, 1],
      ]),
      { startAt: 1_000_000, windowMs: 60_000 },
      1_000,
    );
    expect(bins.counts.reduce((a, b) => a + b, 0)).toBe(0);
    expect(bins.outside).toBe(6);
  });
});

describe('dashboard page', () => {
  const b64 = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64');

  it('inlines the style and script and allows exactly those blocks in its CSP', () => {
    const page = buildPage('<style>/*STYLE*/</style><script>/*SCRIPT*/</script>', 'b{}', 'x=1');
    expect(page.html).toBe('<style>\nb{}</style><script>\nx=1</script>');
    expect(page.csp).toContain(`script-src 'sha256-${b64('\nx=1')}'`);
    expect(page.csp).toContain(`style-src 'sha256-${b64('\nb{}')}'`);
    expect(page.csp).toContain("connect-src 'self'");
    expect(page.csp).toContain("default-src 'none'");
  });

  it('ships a script that parses, keeps data out of innerHTML, and has no template literal that could break its string module', () => {
    expect(() => new Function(DASHBOARD_JS)).not.toThrow();
    expect(DASHBOARD_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|eval\(|localStorage/);
    expect(DASHBOARD_JS).not.toContain('`');
  });

  it('answers the page as HTML with its CSP and no-sniff, and the script the CSP hash names', () => {
    const res = pageResult(dashboardPage());
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers?.['x-content-type-options']).toBe('nosniff');
    const script = /<script>([\s\S]*?)<\/script>/.exec(String(res.body))?.[1] ?? '';
    expect(String(res.headers?.['content-security-policy'])).toContain(`'sha256-${b64(script)}'`);
  });
});
