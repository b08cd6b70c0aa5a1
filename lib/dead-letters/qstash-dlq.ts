// QStash's own dead-letter queue: once a failure callback's job is stored as our dead letter, its QStash copy goes.
import type { Client as QStashClient } from '@upstash/qstash';
import type { FailureOutcome } from './dead-letter-store.js';

export type QStashDlq = Pick<QStashClient['dlq'], 'delete'>;

/**
 * Our dead letter is the one operators list and replay; QStash's copy would only cost storage, and
 * a retry from its console would run the job outside our replay bookkeeping. `not_a_job` keeps it:
 * then QStash's copy is the only record of the failure.
 */
export function shouldDropQStashCopy(outcome: FailureOutcome, dlqId: string | undefined): dlqId is string {
  return dlqId !== undefined && dlqId !== '' && outcome !== 'not_a_job';
}

/** Best-effort: true when deleted; false when QStash refused or was unreachable (the entry simply stays). */
export async function dropQStashCopy(
  dlq: QStashDlq,
  dlqId: string,
): Promise<{ dropped: boolean; error?: string }> {
  try {
    await dlq.delete(dlqId);
    return { dropped: true };
  } catch (err) {
    return { dropped: false, error: err instanceof Error ? err.message : String(err) };
  }
}
