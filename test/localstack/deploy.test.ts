// serverless.yml deployed for real, to LocalStack on this machine (`sls deploy --stage localstack`), and run through
// it: the stack and everything in it read back, the admin API through LocalStack's API Gateway, the EventBridge rule
// firing the tick by itself, jobs delivered signed by the broker to the worker behind that API Gateway and run by
// our Lambda code under the host executor, a dead letter replayed, a redeploy that loses nothing, and `sls remove`.
import { Client as QStashClient } from '@upstash/qstash';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { maxInSlidingWindow } from '../helpers/pipeline-checks.js';
import { QStashPublisher } from '../../lib/publishing/qstash-publisher.js';
import type { TargetHit } from '../../scripts/target/server.js';
import { KEYS, SECRET_ID, STACK, STAGE, startHarness, until, type Harness } from './harness.js';

const config = parse(readFileSync('serverless.yml', 'utf8')) as {
  functions: Record<string, { handler: string; events?: { httpApi?: { method: string; path: string } }[] }>;
};
const FUNCTIONS = Object.keys(config.functions);
// The REST API spells HTTP API's catch-all method `*` as ANY (config/http-events.cjs).
const restMethod = (method: string) => (method === '*' ? 'ANY' : method.toUpperCase());
const ROUTES = Object.values(config.functions)
  .flatMap((fn) => fn.events ?? [])
  .flatMap((e) => (e.httpApi ? [`${restMethod(e.httpApi.method)} ${e.httpApi.path}`] : []));

const TASK = 'ls_minute';
const GOOD_USERS = ['ls-a', 'ls-b', 'ls-c'];
const BROKEN_USER = 'ls-broken';
const LIMIT = { limit: 2, windowMs: 1000 };

/** One task due every minute (the rule's own pace), spread over 6 s, under a small limit, retried once. */
function catalog(targetUrl: string): string {
  return [
    'version: 1',
    `baseUrl: ${targetUrl}`,
    'allowedHosts: [127.0.0.1]',
    'rateLimits:',
    '  global: { limit: 50, window: 1s }',
    `  lsminute: { limit: ${LIMIT.limit}, window: ${LIMIT.windowMs}ms }`,
    'tasks:',
    `  - id: ${TASK}`,
    '    description: LocalStack suite, every minute',
    "    schedule: { cron: '* * * * *' }",
    '    zone: { policy: fixed, tz: UTC }',
    '    spread: 6s',
    "    target: { method: POST, url: '{{baseUrl}}/tasks/{{taskId}}/{{userId}}', body: { period: '{{periodKey}}' } }",
    '    timeoutMs: 5000',
    '    retries: 1',
    '    rateLimits: [lsminute]',
    '',
  ].join('\n');
}

const header = (hit: TargetHit, name: string) => String(hit.headers[name] ?? '');
const jobOf = (hit: TargetHit) => header(hit, 'idempotency-key');
let brokenFixed = false;
function respond(hit: TargetHit): number {
  return hit.path.endsWith(`/${BROKEN_USER}`) && !brokenFixed ? 500 : 200;
}

let h: Harness;
let api: string;
let restApiId: string;

function admin(path: string, init: RequestInit = {}, key: string | null = KEYS.adminKey): Promise<Response> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (key !== null) headers['authorization'] = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${api}${path}`, { ...init, headers, signal: AbortSignal.timeout(60_000) });
}

async function functionEnv(name: string): Promise<Record<string, string>> {
  const conf = (await h.aws(
    'lambda',
    'get-function-configuration',
    '--function-name',
    `${STACK}-${name}`,
  )) as {
    Environment: { Variables: Record<string, string> };
  };
  return conf.Environment.Variables;
}

beforeAll(async () => {
  h = await startHarness({ catalog, respond });
  await h.sls('deploy');
  const rest = (await h.aws(
    'cloudformation',
    'describe-stack-resource',
    '--stack-name',
    STACK,
    '--logical-resource-id',
    'ApiGatewayRestApi',
  )) as { StackResourceDetail: { PhysicalResourceId: string } };
  restApiId = rest.StackResourceDetail.PhysicalResourceId;
  // The path-style URL of the REST API's stage on LocalStack's gateway: what the stage sets as STAGGER_PUBLIC_URL.
  api = `${h.ls.url}/_aws/execute-api/${restApiId}/${STAGE}`;
}, 900_000);

afterAll(async () => {
  await h?.stop();
}, 120_000);

describe('sls deploy --stage localstack', () => {
  it('creates the stack and everything in it: functions on nodejs24.x, the minute rule, the routes, the secret references', async () => {
    const stacks = (await h.aws('cloudformation', 'describe-stacks', '--stack-name', STACK)) as {
      Stacks: { StackStatus: string }[];
    };
    // osls creates the stack (deployment bucket only), then updates it with the functions.
    expect(stacks.Stacks[0]!.StackStatus).toBe('UPDATE_COMPLETE');
    const events = (await h.aws('cloudformation', 'describe-stack-events', '--stack-name', STACK)) as {
      StackEvents: { LogicalResourceId: string; ResourceStatus: string }[];
    };
    const own = events.StackEvents.filter((e) => e.LogicalResourceId === STACK).map((e) => e.ResourceStatus);
    expect(own).toContain('CREATE_COMPLETE');
    expect(own.filter((s) => s.endsWith('FAILED'))).toEqual([]);

    const listed = (await h.aws('lambda', 'list-functions')) as {
      Functions: { FunctionName: string; Runtime: string; Architectures: string[]; Handler: string }[];
    };
    const ours = listed.Functions.filter((f) => f.FunctionName.startsWith(`${STACK}-`));
    expect(ours.map((f) => f.FunctionName.slice(STACK.length + 1)).sort()).toEqual([...FUNCTIONS].sort());
    for (const f of ours) {
      expect(f.Runtime, f.FunctionName).toBe('nodejs24.x');
      expect(f.Architectures, f.FunctionName).toEqual(['arm64']);
      expect(f.Handler).toBe(config.functions[f.FunctionName.slice(STACK.length + 1)]!.handler);
    }

    const rules = (await h.aws('events', 'list-rules')) as {
      Rules: { Name: string; ScheduleExpression?: string; State: string }[];
    };
    const rule = rules.Rules.find((r) => r.Name.startsWith(STACK));
    expect(rule).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    const targets = (await h.aws('events', 'list-targets-by-rule', '--rule', rule!.Name)) as {
      Targets: { Arn: string }[];
    };
    expect(targets.Targets.map((t) => t.Arn.split(':').pop())).toEqual([`${STACK}-schedulerTick`]);

    // Every route of serverless.yml, and only those, as REST API methods on its own function.
    const resources = (await h.aws('apigateway', 'get-resources', '--rest-api-id', restApiId)) as {
      items: { path: string; resourceMethods?: Record<string, unknown> }[];
    };
    const deployed = resources.items.flatMap((r) =>
      Object.keys(r.resourceMethods ?? {}).map((m) => `${m} ${r.path}`),
    );
    expect(deployed.sort()).toEqual([...ROUTES].sort());

    // The template holds only references to the secret; the functions got its values.
    const template = (await h.aws('cloudformation', 'get-template', '--stack-name', STACK)) as {
      TemplateBody: unknown;
    };
    const templateText = JSON.stringify(template.TemplateBody);
    expect(templateText).toContain(
      `{{resolve:secretsmanager:${SECRET_ID}:SecretString:STAGGER_ADMIN_API_KEYS}}`,
    );
    expect(templateText).not.toContain(KEYS.adminKey);
    expect(templateText).not.toContain(KEYS.redisToken);
    const env = await functionEnv('worker');
    expect(env).toMatchObject({
      STAGE: STAGE,
      UPSTASH_REDIS_REST_URL: h.bridge.url,
      UPSTASH_REDIS_REST_TOKEN: KEYS.redisToken,
      QSTASH_URL: h.broker.url,
      STAGGER_ADMIN_API_KEYS: KEYS.adminKey,
      STAGGER_PUBLIC_URL: api,
    });
  });

  it('answers /health 200 through the API Gateway URL, from several function instances at once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => fetch(`${api}/health`, { signal: AbortSignal.timeout(60_000) })),
    );
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', down: [] });
    }
  });

  it('serves the admin API: create a user, enable tasks, 400 writing nothing, 401 without a key', async () => {
    for (const user of [...GOOD_USERS, BROKEN_USER]) {
      const put = await admin(`/v1/users/${user}`, { method: 'PUT', body: JSON.stringify({ zone: 'UTC' }) });
      expect(put.status, user).toBe(201);
    }
    const bad = await admin('/v1/users/ls-mars', {
      method: 'PUT',
      body: JSON.stringify({ zone: 'Mars/Olympus' }),
    });
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { error: { details: { path: string }[] } };
    expect(badBody.error.details.map((d) => d.path)).toEqual(['body.zone']);
    expect((await admin('/v1/users/ls-mars')).status).toBe(404);
    expect((await admin('/v1/users/ls-a', {}, null)).status).toBe(401);
    expect((await admin('/v1/users/ls-a', {}, 'wrong-key-0123456789abcdef')).status).toBe(401);

    for (const user of [...GOOD_USERS, BROKEN_USER]) {
      const put = await admin(`/v1/users/${user}/tasks/${TASK}`, { method: 'PUT', body: '{}' });
      expect(put.status, user).toBe(201);
    }
    const user = (await (await admin('/v1/users/ls-a')).json()) as { tasks?: string[] };
    expect(JSON.stringify(user)).toContain(TASK);
  });

  it('runs the minute tick from the EventBridge rule alone: jobs delivered signed through API Gateway, run once under the limit; the failing one dead-lettered and replayed', async () => {
    // No operator call anywhere: the rule invokes schedulerTick, which publishes to the broker, which calls the worker.
    // A tick that fired while the users were being enabled may have found only some: wait for a period with all.
    const goodJobs = await until('the rule-fired tick to run every good job of one period', 200_000, () => {
      const byPeriod = new Map<string, Set<string>>();
      for (const hit of h.target.hits) {
        if (header(hit, 'x-stagger-origin') !== 'scheduled' || hit.path.endsWith(`/${BROKEN_USER}`)) continue;
        const p = jobOf(hit).split(':')[2]!;
        byPeriod.set(p, (byPeriod.get(p) ?? new Set()).add(jobOf(hit)));
      }
      const full = [...byPeriod.values()].find((jobs) => jobs.size === GOOD_USERS.length);
      return full ? [...full] : undefined;
    });
    const period = goodJobs[0]!.split(':')[2]!;
    expect(goodJobs.sort()).toEqual(GOOD_USERS.map((u) => `${TASK}:${u}:${period}`).sort());
    const brokenJob = `${TASK}:${BROKEN_USER}:${period}`;

    const deadLetter = await until('the failing job to reach the dead letters', 120_000, async () => {
      const list = (await (await admin('/v1/dead-letters')).json()) as {
        items: { id: string; jobId: string; attempts: number; lastStatus: number; reason: string }[];
      };
      return list.items.find((d) => d.jobId === brokenJob);
    });
    expect(deadLetter).toMatchObject({ attempts: 2, lastStatus: 500, reason: 'retries_exhausted' });

    // Every delivery went to the worker or the failure callback behind LocalStack's API Gateway, signed and accepted.
    const ofPeriod = h.target.hits.filter((hit) => jobOf(hit).split(':')[2] === period);
    for (const job of goodJobs)
      expect(
        ofPeriod.filter((hit) => jobOf(hit) === job),
        job,
      ).toHaveLength(1);
    expect(ofPeriod.filter((hit) => jobOf(hit) === brokenJob)).toHaveLength(2);
    expect(
      maxInSlidingWindow(
        ofPeriod.map((hit) => hit.at),
        LIMIT.windowMs,
      ).count,
    ).toBeLessThanOrEqual(LIMIT.limit);
    const targets = new Set(h.deliveries.map((d) => d.target));
    expect([...targets].sort()).toEqual([`${api}/internal/failures`, `${api}/internal/jobs`]);
    expect(h.deliveries.some((d) => d.target === `${api}/internal/failures` && d.status === 200)).toBe(true);
    expect(h.deliveries.filter((d) => d.status === 401)).toEqual([]);
    for (const job of goodJobs) {
      const record = (await (await admin(`/v1/jobs/${encodeURIComponent(job)}`)).json()) as Record<
        string,
        unknown
      >;
      expect(record, job).toMatchObject({
        state: 'succeeded',
        attempts: 1,
        lastStatus: 200,
        origin: 'scheduled',
      });
    }
    const status = (await (await admin('/v1/scheduler')).json()) as { lastTick: { at: string } | null };
    expect(status.lastTick).not.toBeNull();

    brokenFixed = true;
    const replay = await admin(`/v1/dead-letters/${encodeURIComponent(deadLetter.id)}/replay`, {
      method: 'POST',
    });
    expect(replay.status).toBe(202);
    const replayed = await until('the replay to succeed', 60_000, async () => {
      const job = (await (await admin(`/v1/jobs/${encodeURIComponent(brokenJob)}`)).json()) as Record<
        string,
        unknown
      >;
      return job['state'] === 'succeeded' ? job : undefined;
    });
    expect(replayed).toMatchObject({ origin: 'replay', lastStatus: 200 });
    expect(
      h.target.hits.filter((hit) => jobOf(hit) === brokenJob && header(hit, 'x-stagger-origin') === 'replay'),
    ).toHaveLength(1);
  }, 420_000);

  it('redeploys a changed setting without losing users, schedules or pending jobs', async () => {
    expect((await functionEnv('worker'))['LOG_LEVEL']).toBe('info');
    // A job due while the stack updates: published as the scheduler does, to the deployed worker's URL.
    const publisher = new QStashPublisher(
      new QStashClient({ baseUrl: h.broker.url, token: KEYS.qstashToken }),
      api,
    );
    const pendingJob = `${TASK}:ls-a:manual-redeploy`;
    await publisher.publish(
      {
        v: 1,
        jobId: pendingJob,
        taskId: TASK,
        userId: 'ls-a',
        periodKey: 'manual-redeploy',
        notBefore: Date.now() + 20_000,
        origin: 'manual',
        backfilled: false,
        deferrals: 0,
      },
      { deduplicationId: pendingJob, notBeforeMs: Date.now() + 20_000, retries: 10 },
    );
    await h.sls('deploy', { LOG_LEVEL: 'debug' });
    // LocalStack removed the stage with the replaced deployment (docs/localstack.md); same API id, same URL after.
    await h.restoreStage(restApiId);

    const stacks = (await h.aws('cloudformation', 'describe-stacks', '--stack-name', STACK)) as {
      Stacks: { StackStatus: string }[];
    };
    expect(stacks.Stacks[0]!.StackStatus).toBe('UPDATE_COMPLETE');
    for (const name of ['worker', 'schedulerTick', 'adminGetUser'])
      expect((await functionEnv(name))['LOG_LEVEL']).toBe('debug');
    for (const user of [...GOOD_USERS, BROKEN_USER]) {
      const tasks = (await (await admin(`/v1/users/${user}/tasks`)).json()) as unknown;
      expect(JSON.stringify(tasks), user).toContain(TASK);
    }
    const done = await until('the pending job to run after the redeploy', 240_000, async () => {
      const job = (await (await admin(`/v1/jobs/${encodeURIComponent(pendingJob)}`)).json()) as Record<
        string,
        unknown
      >;
      return job['state'] === 'succeeded' ? job : undefined;
    });
    expect(done).toMatchObject({ origin: 'manual', lastStatus: 200 });
    expect(h.target.hits.filter((hit) => jobOf(hit) === pendingJob)).toHaveLength(1);
  }, 600_000);

  it('sls remove removes the stack and its functions', async () => {
    await h.sls('remove');
    const stacks = (await h.aws('cloudformation', 'list-stacks')) as {
      StackSummaries: { StackName: string; StackStatus: string }[];
    };
    const ours = stacks.StackSummaries.filter((s) => s.StackName === STACK).map((s) => s.StackStatus);
    expect(ours).toContain('DELETE_COMPLETE');
    expect(ours.filter((s) => s !== 'DELETE_COMPLETE')).toEqual([]);
    const listed = (await h.aws('lambda', 'list-functions')) as { Functions: { FunctionName: string }[] };
    expect(listed.Functions.filter((f) => f.FunctionName.startsWith(`${STACK}-`))).toEqual([]);
  }, 300_000);
});
