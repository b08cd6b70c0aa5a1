// Test fixtures for the worker: a catalog file, users with tasks, job messages, and QStash-signed requests of our own.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { JobMessage } from '../../lib/domain/job.js';
import { keysFor } from '../../lib/store/keys.js';
import { PreferencesStore } from '../../lib/store/preferences.js';
import { catalogHead, writeTempCatalog } from './catalog-file.js';
import { TEST_KEYS, type TestStack } from './stack.js';

export interface TestTask {
  id: string;
  retries?: number;
  timeoutMs?: number;
  rateLimits?: string[];
  method?: 'GET' | 'POST';
  enabled?: boolean;
  /** Header templates of the target (values may take {{params}}). */
  headers?: Record<string, string>;
}

/** Writes a catalog whose targets are `{{baseUrl}}/t/<task>/<user>/<period>` (baseUrl = the stack's target). */
export function writeCatalog(limits: Record<string, string>, tasks: TestTask[]): string {
  const lines = catalogHead(limits);
  for (const t of tasks) {
    lines.push(
      `  - id: ${t.id}`,
      `    description: test task ${t.id}`,
      `    schedule: { every: hour }`,
      `    zone: { policy: fixed, tz: UTC }`,
      `    spread: 10m`,
      `    target:`,
      `      method: ${t.method ?? 'POST'}`,
      `      url: '{{baseUrl}}/t/{{taskId}}/{{userId}}/{{periodKey}}'`,
      ...(t.headers ? [`      headers: ${JSON.stringify(t.headers)}`] : []),
      ...(t.method === 'GET' ? [] : [`      body: { user: '{{userId}}', note: '{{note}}' }`]),
      `    timeoutMs: ${t.timeoutMs ?? 2000}`,
      `    retries: ${t.retries ?? 3}`,
      `    rateLimits: [${(t.rateLimits ?? []).join(', ')}]`,
      `    enabled: ${t.enabled ?? true}`,
    );
  }
  return writeTempCatalog(`${lines.join('\n')}\n`);
}

export async function seedUser(
  stack: TestStack,
  userId: string,
  tasks: Record<string, Record<string, string | number>>,
) {
  const prefs = new PreferencesStore(stack.redis, keysFor(stack.prefix));
  await prefs.upsertUser({ id: userId, zone: 'UTC', enabled: true, labels: {} });
  for (const [taskId, params] of Object.entries(tasks))
    await prefs.enableTask(userId, taskId, params, 'fixed');
}

export function jobMessage(
  taskId: string,
  userId: string,
  periodKey: string,
  over: Partial<JobMessage> = {},
): JobMessage {
  return {
    v: 1,
    jobId: `${taskId}:${userId}:${periodKey}`,
    taskId,
    userId,
    periodKey,
    notBefore: Date.now() - 1000,
    origin: 'scheduled',
    backfilled: false,
    deferrals: 0,
    ...over,
  };
}

/** Publishes through the stack's broker exactly as the scheduler does. */
export async function publishJob(
  stack: TestStack,
  m: JobMessage,
  opts: { dedupId?: string; retries?: number } = {},
) {
  const res = await stack.qstash.publishJSON({
    url: `${stack.api.url}/internal/jobs`,
    body: m,
    deduplicationId: opts.dedupId ?? m.jobId,
    retries: opts.retries ?? 3,
    failureCallback: `${stack.api.url}/internal/failures`,
  });
  return res.messageId;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** An Upstash-Signature JWT written independently of the broker: HS256 over the claims QStash documents. */
export function signQStash(opts: {
  key?: string;
  url: string;
  body: string;
  nowS?: number;
  expS?: number;
}): string {
  const now = opts.nowS ?? Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({
      iss: 'Upstash',
      sub: opts.url,
      exp: opts.expS ?? now + 300,
      nbf: now,
      iat: now,
      jti: `jwt_${randomBytes(8).toString('hex')}`,
      body: createHash('sha256').update(opts.body).digest('base64url'),
    }),
  );
  const sig = createHmac('sha256', opts.key ?? TEST_KEYS.currentSigningKey)
    .update(`${header}.${payload}`)
    .digest('base64url');
  return `${header}.${payload}.${sig}`;
}

/** POSTs a body to an internal route as QStash would, signed for `signedUrl` (default: the route's own URL). */
export async function deliverSigned(
  stack: TestStack,
  path: string,
  body: string,
  opts: {
    key?: string;
    signedUrl?: string;
    signedBody?: string;
    retried?: number;
    messageId?: string;
    signature?: string | null;
  } = {},
): Promise<Response> {
  const url = `${stack.api.url}${path}`;
  const signature =
    opts.signature === undefined
      ? signQStash({ key: opts.key, url: opts.signedUrl ?? url, body: opts.signedBody ?? body })
      : opts.signature;
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'upstash-message-id': opts.messageId ?? `msg_test_${randomBytes(6).toString('hex')}`,
      'upstash-retried': String(opts.retried ?? 0),
      ...(signature === null ? {} : { 'upstash-signature': signature }),
    },
    body,
  });
}

export async function jobHash(stack: TestStack, jobId: string): Promise<Record<string, unknown>> {
  return (await stack.redis.hgetall<Record<string, unknown>>(keysFor(stack.prefix).job(jobId))) ?? {};
}

/** Target hits whose path is this job's. */
export function hitsOf(stack: TestStack, taskId: string, userId: string, periodKey: string) {
  const path = `/t/${taskId}/${encodeURIComponent(userId)}/${encodeURIComponent(periodKey)}`;
  return stack.target.hits.filter((h) => h.path === path);
}
