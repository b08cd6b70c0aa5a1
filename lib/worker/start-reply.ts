// The start scripts' replies (startJob, and startBatch's list of them), checked and turned into StartResult values.
import { z } from 'zod';
import type { BatchStartResult, StartResult } from './job-store.js';

const StartReply = z.discriminatedUnion('r', [
  z.object({ r: z.literal('duplicate'), state: z.string() }),
  z.object({ r: z.literal('busy'), leaseUntil: z.number() }),
  z.object({ r: z.literal('skipped'), reason: z.string() }),
  z.object({
    r: z.literal('denied'),
    retryAt: z.number(),
    limit: z.string(),
    deferrals: z.number(),
    replays: z.number(),
  }),
  // @upstash/redis may have parsed the params JSON already; keep it as text for one parser downstream.
  z.object({
    r: z.literal('claimed'),
    attempt: z.number(),
    // Sent as text: the reservation grid's fractions of a millisecond would not survive cjson's number format.
    admittedAt: z.union([z.string(), z.number()]).pipe(z.coerce.number()),
    waitMs: z.number().min(0),
    serverAt: z.number(),
    params: z.unknown().transform((p) => (typeof p === 'string' ? p : JSON.stringify(p))),
  }),
]);

const BatchStartReply = z.object({
  serverAt: z.number(),
  serverEnd: z.number().optional(),
  results: z.array(StartReply),
});

function startResultOf(r: z.output<typeof StartReply>): StartResult {
  switch (r.r) {
    case 'duplicate':
      return { kind: 'duplicate', state: r.state };
    case 'busy':
      return { kind: 'busy', leaseUntil: r.leaseUntil };
    case 'skipped':
      return { kind: 'skipped', reason: r.reason };
    case 'denied':
      return {
        kind: 'denied',
        retryAt: r.retryAt,
        limit: r.limit,
        deferrals: r.deferrals,
        replays: r.replays,
      };
    case 'claimed':
      return {
        kind: 'claimed',
        attempt: r.attempt,
        params: r.params,
        admittedAt: r.admittedAt,
        waitMs: r.waitMs,
        serverAt: r.serverAt,
      };
  }
}

export function parseStartReply(reply: unknown): StartResult {
  return startResultOf(StartReply.parse(reply));
}

export function parseBatchStartReply(reply: unknown): BatchStartResult {
  const r = BatchStartReply.parse(reply);
  return {
    serverAt: r.serverAt,
    ...(r.serverEnd === undefined ? {} : { serverEnd: r.serverEnd }),
    results: r.results.map(startResultOf),
  };
}
