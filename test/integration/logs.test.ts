// Structured logs of real deliveries through the local stack: one JSON object per line, the job's four fields and the
// request id on every line about a job, and no token, signature, key or user param anywhere; payloads only at debug.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs, logger } from '../../lib/log.js';
import { writeSchedulerCatalog } from '../helpers/scheduler-fixtures.js';
import { startStack, TEST_KEYS, waitFor, type TestStack } from '../helpers/stack.js';
import { jobHash, jobMessage, publishJob, seedUser } from '../helpers/worker-fixtures.js';

const USER_SECRET = 'user-param-secret-7d41c2';
let stack: TestStack;
let lines: string[] = [];
let release: (() => void) | undefined;

type Line = Record<string, unknown>;

beforeAll(async () => {
  const catalog = writeSchedulerCatalog({ global: '1000/1s' }, [
    { id: 'minute', schedule: "{ cron: '* * * * *' }", spread: '1s' },
    { id: 'report', schedule: "{ cron: '0 0 1 1 *' }" },
    { id: 'refused', schedule: "{ cron: '0 0 1 1 *' }", retries: 0 },
  ]);
  stack = await startStack({
    env: { STAGGER_CATALOG_PATH: catalog.path },
    target: { respond: (hit) => (hit.path.startsWith('/t/refused/') ? 404 : 200) },
  });
  await seedUser(stack, 'alice', {
    minute: { apiToken: USER_SECRET },
    report: { apiToken: USER_SECRET },
    refused: { apiToken: USER_SECRET },
  });
});

afterAll(async () => {
  release?.();
  await stack?.stop();
});

const parsed = () => lines.map((l) => JSON.parse(l) as Line);
const settled = (jobId: string, state: string) =>
  waitFor(
    async () => ((await jobHash(stack, jobId))['state'] === state ? true : undefined),
    15_000,
    `${jobId} ${state}`,
  );

/** Every secret the stack holds, and the user's param value. */
const SECRETS = [
  TEST_KEYS.adminKey,
  TEST_KEYS.currentSigningKey,
  TEST_KEYS.nextSigningKey,
  TEST_KEYS.qstashToken,
  TEST_KEYS.redisToken,
  USER_SECRET,
];

function expectClean(text: string) {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  // An Upstash-Signature is a JWT: header and claims both base64url JSON.
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/);
  expect(text.toLowerCase()).not.toContain('upstash-signature');
}

describe('structured logs', () => {
  it('logs every job line with level, time, function, request id, job id, task, user and period; no secrets even at debug', async () => {
    lines = [];
    release = captureLogs((line) => lines.push(line), 'debug');
    const ok = jobMessage('report', 'alice', 'p-logs');
    const bad = jobMessage('refused', 'alice', 'p-logs');
    await publishJob(stack, ok);
    await publishJob(stack, bad, { retries: 0 });
    await settled(ok.jobId, 'succeeded');
    await waitFor(async () =>
      (await stack.redis.hget(`${stack.prefix}dlq:${bad.jobId}`, 'qstashMessageId')) ? true : undefined,
    );
    const run = await stack.admin('/v1/scheduler/run', { method: 'POST' });
    expect(run.status).toBe(200);
    const runRequestId = run.headers.get('x-request-id');
    const now = await stack.admin('/v1/users/alice/tasks/report/run', { method: 'POST' });
    const manualJobId = ((await now.json()) as { jobId: string }).jobId;
    const replayed = await stack.admin(`/v1/dead-letters/${encodeURIComponent(bad.jobId)}/replay`, {
      method: 'POST',
    });
    expect([now.status, replayed.status]).toEqual([202, 202]);
    await settled(manualJobId, 'succeeded');
    release();
    release = undefined;

    expect(lines.length).toBeGreaterThan(0);
    for (const raw of lines)
      expect(raw.endsWith('\n') && raw.trim().split('\n').length === 1, raw).toBe(true);
    const all = parsed();
    for (const l of all) {
      expect(typeof l['level']).toBe('string');
      expect(String(l['time'])).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(typeof l['fn']).toBe('string');
      expect(typeof l['msg']).toBe('string');
    }
    const jobLines = all.filter((l) => 'jobId' in l);
    for (const l of jobLines) {
      expect(Object.keys(l), JSON.stringify(l)).toEqual(
        expect.arrayContaining(['jobId', 'task', 'user', 'period', 'requestId']),
      );
      expect(l['jobId']).toBe(`${String(l['task'])}:${String(l['user'])}:${String(l['period'])}`);
    }
    const about = (jobId: string) => jobLines.filter((l) => l['jobId'] === jobId).map((l) => l['msg']);
    expect(about(ok.jobId)).toEqual(expect.arrayContaining(['job delivered', 'job run']));
    expect(about(bad.jobId)).toEqual(
      expect.arrayContaining(['job delivered', 'job run failed', 'failure callback', 'dead letter replayed']),
    );
    expect(about(manualJobId)).toEqual(expect.arrayContaining(['run-now published', 'job run']));
    expect(jobLines.find((l) => l['msg'] === 'dead letter replayed')?.['requestId']).toBe(
      replayed.headers.get('x-request-id'),
    );
    const failed = jobLines.find((l) => l['jobId'] === bad.jobId && l['msg'] === 'job run failed')!;
    expect(failed).toMatchObject({ level: 'warn', outcome: 'dead', status: 404 });
    // One delivery, one request id on all its lines.
    const delivered = jobLines.find((l) => l['jobId'] === ok.jobId && l['msg'] === 'job delivered')!;
    const ranIn = jobLines.find((l) => l['jobId'] === ok.jobId && l['msg'] === 'job run')!;
    expect(ranIn['requestId']).toBe(delivered['requestId']);

    // The scheduler's lines about a slot carry its task and period, and the request id of the run.
    const claimed = all.find((l) => l['msg'] === 'slot claimed');
    expect(claimed).toMatchObject({ task: 'minute', requestId: runRequestId, group: '_' });
    expect(typeof claimed?.['period']).toBe('string');

    expectClean(lines.join(''));
  });

  it('leaves the job payload out at info', async () => {
    lines = [];
    release = captureLogs((line) => lines.push(line), 'info');
    const m = jobMessage('report', 'alice', 'p-info');
    await publishJob(stack, m);
    await settled(m.jobId, 'succeeded');
    release();
    release = undefined;
    const all = parsed();
    expect(all.some((l) => l['jobId'] === m.jobId && l['msg'] === 'job run')).toBe(true);
    expect(all.every((l) => l['level'] !== 'debug' && !('message' in l))).toBe(true);
    expectClean(lines.join(''));
  });

  it('redacts secrets a caller might pass in a log object', () => {
    lines = [];
    const stop = captureLogs((line) => lines.push(line), 'info');
    logger.info(
      { req: { authorization: 'Bearer x-secret', token: 't-secret' }, user: { params: { k: 'p-secret' } } },
      'probe',
    );
    stop();
    const text = lines.join('');
    expect(text).toContain('probe');
    for (const s of ['x-secret', 't-secret', 'p-secret']) expect(text).not.toContain(s);
  });
});
