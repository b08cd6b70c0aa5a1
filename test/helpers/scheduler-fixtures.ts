// Test fixtures for the scheduler: a catalog file, seeded task indexes, deps over the test stack, and what the broker stored.
import { BatchMessage, jobsOfBatch } from '../../lib/domain/batch.js';
import { batchIdOf } from '../../lib/publishing/batch-id.js';
import { JobMessage } from '../../lib/domain/job.js';
import { DEFAULT_SETTINGS, type SchedulerDeps, type SchedulerSettings } from '../../lib/scheduler/deps.js';
import type { ContinuationMessage } from '../../lib/scheduler/continuation.js';
import { isBatch } from '../../lib/domain/delivery.js';
import {
  QStashPublisher,
  type FanOutMessage,
  type FanOutPublisher,
  type PublishReport,
} from '../../lib/publishing/qstash-publisher.js';
import { schedulableTasks } from '../../lib/scheduler/tasks.js';
import { parseCatalog } from '../../lib/domain/catalog.js';
import { keysFor } from '../../lib/store/keys.js';
import { catalogHead, writeTempCatalog } from './catalog-file.js';
import type { TestStack } from './stack.js';
import { seededRandom } from '../../lib/util/seeded-random.js';

export interface SchedTask {
  id: string;
  schedule?: string;
  spread?: string;
  zone?: string;
  rateLimits?: string[];
  retries?: number;
  timeoutMs?: number;
}

function catalogYaml(limits: Record<string, string>, tasks: SchedTask[]): string {
  const lines = catalogHead(limits, ['baseUrl: http://127.0.0.1:4000']);
  for (const t of tasks) {
    lines.push(
      `  - id: ${t.id}`,
      `    description: scheduler test task ${t.id}`,
      `    schedule: ${t.schedule ?? "{ every: hour, at: ':00' }"}`,
      `    zone: ${t.zone ?? '{ policy: fixed, tz: UTC }'}`,
      `    spread: ${t.spread ?? '10m'}`,
      `    target: { method: POST, url: '{{baseUrl}}/t/{{taskId}}/{{userId}}' }`,
      `    retries: ${t.retries ?? 3}`,
      ...(t.timeoutMs === undefined ? [] : [`    timeoutMs: ${t.timeoutMs}`]),
      `    rateLimits: [${(t.rateLimits ?? []).join(', ')}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the catalog to a temp file (for the functions' runtime) and returns its path and parsed task types. */
export function writeSchedulerCatalog(limits: Record<string, string>, tasks: SchedTask[]) {
  const text = catalogYaml(limits, tasks);
  return { path: writeTempCatalog(text, 'sched-catalog'), tasks: schedulableTasks(parseCatalog(text)) };
}

export const userIds = (n: number, label = 'user') =>
  Array.from({ length: n }, (_, i) => `${label}-${String(i).padStart(6, '0')}`);

/** Indexes `ids` under (task, group) the way the preferences store does (zset score 0, idxzones count). */
export async function seedIndex(
  stack: TestStack,
  prefix: string,
  taskId: string,
  ids: string[],
  group = '_',
) {
  const keys = keysFor(prefix);
  const p = stack.redis.pipeline();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500).map((member) => ({ score: 0, member }));
    p.zadd(keys.taskIndex(taskId, group), chunk[0]!, ...chunk.slice(1));
  }
  p.hincrby(keys.taskZones(taskId), group, ids.length);
  await p.exec();
}

/**
 * Records what passes through (`messages` as published, `jobs` with every batch opened into its single-job
 * messages), and can crash: publish page `crashOn` (1-based) for real, then throw before the checkpoint.
 */
export class RecordingPublisher implements FanOutPublisher {
  readonly jobs: JobMessage[] = [];
  readonly messages: FanOutMessage[] = [];
  readonly continuations: ContinuationMessage[] = [];
  calls = 0;
  constructor(
    private readonly inner: FanOutPublisher,
    private readonly crashOn?: number,
  ) {}

  async publishJobs(messages: readonly FanOutMessage[], retries: number): Promise<PublishReport | void> {
    this.calls++;
    const report = await this.inner.publishJobs(messages, retries);
    this.messages.push(...messages);
    for (const m of messages) this.jobs.push(...(isBatch(m) ? jobsOfBatch(m) : [m]));
    if (this.calls === this.crashOn) throw new Error(`injected crash after page ${this.calls}`);
    return report;
  }

  async publishContinuations(messages: readonly ContinuationMessage[]): Promise<void> {
    this.continuations.push(...messages);
    await this.inner.publishContinuations(messages);
  }
}

/** Scheduler deps over the stack's Redis and broker, under their own key prefix, with a fixed clock. */
export function testDeps(
  stack: TestStack,
  opts: {
    prefix: string;
    tasks: SchedulerDeps['tasks'];
    now: number;
    publisher?: FanOutPublisher;
    settings?: Partial<SchedulerSettings>;
  },
): SchedulerDeps & { recorder: RecordingPublisher } {
  const recorder =
    opts.publisher instanceof RecordingPublisher
      ? opts.publisher
      : new RecordingPublisher(opts.publisher ?? new QStashPublisher(stack.qstash, stack.api.url));
  return {
    redis: stack.redis,
    keys: keysFor(opts.prefix),
    publisher: recorder,
    recorder,
    tasks: opts.tasks,
    clock: () => opts.now,
    random: seededRandom(),
    settings: { ...DEFAULT_SETTINGS, pageSize: 100, ...opts.settings },
  };
}

export interface StoredJob {
  messageId: string;
  job: JobMessage;
  /** The batch message the job travels in (its single-job message in `job`); absent for a job alone. */
  batch?: BatchMessage;
  /** Upstash-Not-Before as stored, ms. */
  notBefore: number;
  url: string;
  deduplicationId?: string;
  maxRetries: number;
  failureCallbackUrl?: string;
}

/**
 * Jobs the broker holds (waiting or in flight) for a task, as it stored them after deduplication: one entry per
 * job, a batch message opened into one entry per job it carries (each naming the batch).
 */
export async function brokerJobs(stack: TestStack, taskId: string): Promise<StoredJob[]> {
  const [due, inflight] = await Promise.all([
    stack.redis.zrange<string[]>('qstash:due', 0, -1),
    stack.redis.zrange<string[]>('qstash:inflight', 0, -1),
  ]);
  const ids = [...new Set([...due, ...inflight].map(String))];
  const specs = await Promise.all(ids.map((id) => stack.redis.hget<unknown>(`qstash:m:${id}`, 'spec')));
  const out: StoredJob[] = [];
  specs.forEach((raw, i) => {
    if (raw === null || raw === undefined) return;
    const spec = (typeof raw === 'string' ? JSON.parse(raw) : raw) as {
      url: string;
      body: string;
      notBefore: number;
      deduplicationId?: string;
      maxRetries: number;
      failureCallback?: { url: string };
    };
    if (!spec.url.endsWith('/internal/jobs')) return;
    const body: unknown = JSON.parse(Buffer.from(spec.body, 'base64').toString('utf8'));
    const common = {
      messageId: ids[i]!,
      notBefore: spec.notBefore,
      url: spec.url,
      ...(spec.deduplicationId === undefined ? {} : { deduplicationId: spec.deduplicationId }),
      maxRetries: spec.maxRetries,
      ...(spec.failureCallback ? { failureCallbackUrl: spec.failureCallback.url } : {}),
    };
    const batch = BatchMessage.safeParse(body);
    if (batch.success) {
      if (batch.data.taskId !== taskId) return;
      for (const job of jobsOfBatch(batch.data)) out.push({ ...common, job, batch: batch.data });
      return;
    }
    const parsed = JobMessage.safeParse(body);
    if (!parsed.success || parsed.data.taskId !== taskId) return;
    out.push({ ...common, job: parsed.data });
  });
  return out;
}

/** The deduplication id a stored job's message was published with: its job id alone, its batch's id in a batch. */
export const expectedDeduplicationId = (s: StoredJob): string => (s.batch ? batchIdOf(s.batch) : s.job.jobId);

export { seededRandom };
