// Brings jobs QStash gave up on into stagger's dead letters: a worker down longer than QStash's retries (and the failure callback with it) leaves them only in QStash's own DLQ.
//
// Policy: a job message of ours found in QStash's DLQ becomes a stagger dead letter (reason
// retries_exhausted, as if its failure callback had arrived), unless the job succeeded or was skipped
// meanwhile; a batch message, one dead letter per job of it not settled (recordFailure); a failure callback of ours found there is applied as it would have been. Either way the
// QStash DLQ entry is then deleted. Nothing is re-published automatically: operators replay from
// stagger's dead letters, where they already look. Runs from the tick at most once per `everyMs`
// (one SET NX guards it across instances), a bounded number of pages per run.
import { FailureCallback, type DeadLetterStore } from '../dead-letters/dead-letter-store.js';
import type { Logger } from '../log.js';

/** One QStash DLQ entry, as @upstash/qstash lists it (the fields used here). */
export interface QStashDlqEntry {
  dlqId: string;
  messageId: string;
  url: string;
  body?: string;
  bodyBase64?: string;
  responseStatus?: number;
  responseBody?: string;
  maxRetries?: number;
  createdAt: number;
}

/** The narrow part of QStash's DLQ API the sweep uses (`client.dlq`). */
export interface QStashDlq {
  listMessages(options: {
    cursor?: string;
    count?: number;
    filter?: { url?: string };
  }): Promise<{ messages: QStashDlqEntry[]; cursor?: string }>;
  deleteMany(request: { dlqIds: string[] }): Promise<{ deleted: number }>;
}

export interface DlqSweepDeps {
  dlq: QStashDlq;
  deadLetters: Pick<DeadLetterStore, 'recordFailure'>;
  /** The worker's and the failure callback's URLs exactly as published. */
  jobsUrl: string;
  failuresUrl: string;
  /** SET NX PX on `guardKey`: true when this caller may sweep now. */
  acquireGuard: (everyMs: number) => Promise<boolean>;
  everyMs: number;
  maxPages: number;
  log?: Logger;
}

export interface DlqSweepResult {
  swept: boolean;
  /** DLQ entries seen of our two URLs. */
  seen: number;
  /** Newly stored (or updated) stagger dead letters: one per job (a batch entry counts its jobs dead-lettered). */
  deadLettered: number;
  /** Entries whose job had meanwhile succeeded, been skipped or replayed (nothing to keep). */
  ignored: number;
  /** Entries deleted from QStash's DLQ. */
  deleted: number;
  /** Entries left in place (unreadable or failed to store): the next sweep tries again. */
  kept: number;
}

const PAGE = 100;

/** The failure-callback body QStash would have sent for this DLQ entry. */
export function callbackOfJobEntry(e: QStashDlqEntry): FailureCallback {
  const source = e.bodyBase64 ?? Buffer.from(e.body ?? '', 'utf8').toString('base64');
  return {
    status: e.responseStatus ?? 0,
    ...(e.responseBody === undefined ? {} : { body: Buffer.from(e.responseBody).toString('base64') }),
    ...(e.maxRetries === undefined ? {} : { retried: e.maxRetries }),
    sourceMessageId: e.messageId,
    sourceBody: source,
    createdAt: e.createdAt,
    dlqId: e.dlqId,
  };
}

function callbackOfFailureEntry(e: QStashDlqEntry): FailureCallback | undefined {
  const text = e.bodyBase64 ? Buffer.from(e.bodyBase64, 'base64').toString('utf8') : (e.body ?? '');
  try {
    const parsed = FailureCallback.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function sweepQStashDlq(deps: DlqSweepDeps): Promise<DlqSweepResult> {
  const result: DlqSweepResult = { swept: false, seen: 0, deadLettered: 0, ignored: 0, deleted: 0, kept: 0 };
  if (!(await deps.acquireGuard(deps.everyMs))) return result;
  result.swept = true;
  for (const [url, toCallback] of [
    [deps.jobsUrl, callbackOfJobEntry],
    [deps.failuresUrl, callbackOfFailureEntry],
  ] as const) {
    let cursor: string | undefined;
    for (let page = 0; page < deps.maxPages; page++) {
      const { messages, cursor: next } = await deps.dlq.listMessages({
        count: PAGE,
        filter: { url },
        ...(cursor ? { cursor } : {}),
      });
      const done: string[] = [];
      for (const entry of messages) {
        if (entry.url !== url) continue;
        result.seen++;
        const cb = toCallback(entry);
        const record = cb ? await deps.deadLetters.recordFailure(cb) : { outcome: 'not_a_job' as const };
        const { outcome } = record;
        if (outcome === 'stored' || outcome === 'updated') result.deadLettered += record.batch?.count ?? 1;
        else if (outcome === 'ignored' || outcome === 'stale') result.ignored++;
        // Not a job of ours (or unreadable): left where QStash's own tools show it.
        if (outcome === 'not_a_job') result.kept++;
        else done.push(entry.dlqId);
      }
      if (done.length > 0) result.deleted += (await deps.dlq.deleteMany({ dlqIds: done })).deleted;
      if (!next || messages.length === 0) break;
      cursor = next;
    }
  }
  if (result.seen > 0) deps.log?.info({ ...result }, 'QStash DLQ reconciled into stagger dead letters');
  return result;
}
