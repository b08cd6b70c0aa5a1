// Pure parts of the batch worker: the delay before a failed job's next attempt.
import { describe, expect, it } from 'vitest';
import { JobMessage } from '../../lib/domain/job.js';
import { qstashRetryDelayMs } from '../../lib/worker/run-batch.js';

describe('qstashRetryDelayMs', () => {
  it("follows QStash's backoff in whole milliseconds, capped at a day", () => {
    expect(qstashRetryDelayMs(1)).toBe(12_183);
    expect(qstashRetryDelayMs(2)).toBe(148_414);
    expect(qstashRetryDelayMs(10)).toBe(86_400_000);
    for (let n = 0; n <= 12; n++) expect(Number.isInteger(qstashRetryDelayMs(n))).toBe(true);
  });

  it('makes a notBefore a job message accepts', () => {
    const m = {
      v: 1,
      jobId: 't:u:p',
      taskId: 't',
      userId: 'u',
      periodKey: 'p',
      notBefore: 1_765_000_000_000 + qstashRetryDelayMs(1),
      origin: 'scheduled',
    };
    expect(JobMessage.safeParse(m).success).toBe(true);
  });
});
