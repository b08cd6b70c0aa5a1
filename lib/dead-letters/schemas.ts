// zod schemas of the dead-letter API: edge parsing and the OpenAPI document come from here.
import { z } from 'zod';
import { JobId, TaskId, UserId } from '../domain/ids.js';
import { JobMessage } from '../domain/job.js';
import { Instant, pageLimit } from '../jobs/schemas.js';
import { DEAD_LETTER_CURSOR } from './dead-letter-store.js';

export const MAX_DEAD_LETTER_PAGE = 100;

export const DeadLetterPath = z.strictObject({
  id: JobId.meta({ description: 'Dead-letter id (the job id)' }),
});

export const DeadLetterQuery = z.strictObject({
  cursor: z
    .string()
    .regex(DEAD_LETTER_CURSOR, 'a nextCursor of this API: <deadAt ms>.<id in base64url>')
    .optional()
    .meta({ description: 'nextCursor of the previous page', examples: ['1796033129519.ZGFpbHk6YTpw'] }),
  limit: pageLimit(MAX_DEAD_LETTER_PAGE).optional(),
});

export const DeadLetterView = z.object({
  id: z.string(),
  jobId: JobId,
  taskId: TaskId,
  userId: UserId,
  periodKey: z.string(),
  message: JobMessage,
  lastStatus: z.number().int(),
  lastError: z.string(),
  attempts: z.number().int(),
  deadAt: Instant,
  reason: z.string().meta({ description: 'permanent (the target refused) | retries_exhausted' }),
  qstashMessageId: z.string().optional(),
  qstashDlqId: z.string().optional(),
});
export const DeadLetterPage = z.object({
  items: z.array(DeadLetterView),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next page; null on the last' }),
});
