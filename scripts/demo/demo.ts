// `npm run demo` (scripts/dev.ts --demo): the demo catalog, a target that fails some calls on purpose, seeded users
// and a first scheduler tick, so a newcomer sees a success, a retry and a dead letter within a minute of start-up.
import type { TargetHit } from '../target/server.js';

export const DEMO_CATALOG = 'config/demo-tasks.yaml';
export const DEMO_DATA_DIR = '.local/demo';
export const DEMO_TASK = 'demo_ping';
/** `demo-flaky` fails the first attempt of each period, `demo-broken` every attempt; the rest succeed. */
export const DEMO_USERS = [
  ...Array.from({ length: 8 }, (_, i) => `demo-${i + 1}`),
  'demo-flaky',
  'demo-broken',
] as const;

/** The demo target's answer to one call (`countForPath`: calls so far to this path, i.e. this job, this one included). */
export function demoRespond(hit: Pick<TargetHit, 'path'>, countForPath: number): number {
  const user = new URL(hit.path, 'http://demo.invalid').searchParams.get('user');
  if (user === 'demo-broken') return 503;
  if (user === 'demo-flaky' && countForPath === 1) return 503;
  return 200;
}

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

/** The admin API of the stack at `api`, with `adminKey`. */
export function adminClient(api: string, adminKey: string): Call {
  return async (method, path, body) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
}

function expectStatus(what: string, got: { status: number; body: unknown }, ok: number[]): void {
  if (!ok.includes(got.status)) throw new Error(`${what}: HTTP ${got.status} ${JSON.stringify(got.body)}`);
}

export interface DemoStart {
  users: number;
  /** Jobs the first tick published (0 when this minute's period was claimed already, e.g. on a restart). */
  published: number;
}

/** Seeds the demo users through the admin API (idempotent), then runs one tick so this minute's period starts now. */
export async function startDemo(call: Call): Promise<DemoStart> {
  for (const user of DEMO_USERS) {
    expectStatus(
      `PUT user ${user}`,
      await call('PUT', `/v1/users/${user}`, { zone: 'UTC', labels: { seed: 'demo' } }),
      [200, 201],
    );
    expectStatus(
      `enable ${DEMO_TASK} for ${user}`,
      await call('PUT', `/v1/users/${user}/tasks/${DEMO_TASK}`, {}),
      [200, 201],
    );
  }
  // The minute's tick may be running (serverless-offline fires it at the boundary): one retry after it.
  let tick = await call('POST', '/v1/scheduler/run');
  if (tick.status === 409) {
    await new Promise((r) => setTimeout(r, 2_000));
    tick = await call('POST', '/v1/scheduler/run');
  }
  expectStatus('POST /v1/scheduler/run', tick, [200, 409]);
  const published = tick.status === 200 ? Number((tick.body as { published?: number }).published ?? 0) : 0;
  return { users: DEMO_USERS.length, published };
}
