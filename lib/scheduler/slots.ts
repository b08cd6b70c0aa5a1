// Slot state in Redis: claim, take-over, fenced checkpoints and the page reads of a fan-out; each change one Lua script.
import type { Redis } from '@upstash/redis';
import { z } from 'zod';
import type { Keys } from '../store/keys.js';
import { jsonReply, runScript, type LuaScript, type ScriptRedis } from '../store/lua/script.js';
import { advanceSlot, claimSlot, takeSlot } from './lua/scripts.generated.js';
import type { ClaimPlan } from './plan.js';

const DAY_MS = 86_400_000;

export interface SlotId {
  taskId: string;
  group: string;
  periodKey: string;
}

export interface SlotState extends SlotId {
  state: 'fanning' | 'done';
  dueAt: number;
  startAt: number;
  windowMs: number;
  total: number;
  backfilled: boolean;
  fence: number;
  cursor: string;
  count: number;
  claimedAt: number;
  updatedAt: number;
}

export type ClaimOutcome =
  { kind: 'claimed' | 'resumed'; slot: SlotState } | { kind: 'done' | 'not-new' | 'owned' | 'missing' };

export type TakeOutcome = { kind: 'taken'; slot: SlotState } | { kind: 'done' | 'missing' | 'superseded' };

export type AdvanceOutcome =
  | { kind: 'page'; ids: string[] }
  | { kind: 'done' }
  | { kind: 'stale' | 'missing' | 'not-fanning' | 'backwards' };

export type SlotRedis = ScriptRedis & Pick<Redis, 'mget' | 'zrange' | 'hgetall'>;

// Replies of our scripts still cross a boundary: @upstash/redis may have parsed numeric-looking text.
const text = z.preprocess((v) => (v === null || v === undefined ? '' : String(v)), z.string());
const num = z.coerce.number();
const SlotFields = z.object({
  state: z.enum(['fanning', 'done']),
  taskId: text,
  group: text,
  periodKey: text,
  dueAt: num,
  startAt: num,
  windowMs: num,
  total: num,
  backfilled: z.preprocess((v) => String(v) === '1', z.boolean()),
  fence: num,
  cursor: text,
  count: num,
  claimedAt: num,
  updatedAt: num,
});
const SlotReply = z.object({ code: z.number().int(), slot: SlotFields.optional() });
const PageReply = z.object({
  code: z.number().int(),
  ids: z.preprocess((v) => (Array.isArray(v) ? v : []), z.array(text)).optional(),
});

function slotOf(reply: z.output<typeof SlotReply>, script: LuaScript): SlotState {
  if (!reply.slot) throw new Error(`${script.name} replied code ${reply.code} without the slot`);
  return reply.slot;
}

export interface SlotStoreOptions {
  /** How long a done slot hash is kept for inspection (its period can never be claimed again anyway). */
  doneRetentionMs: number;
}

export class SlotStore {
  constructor(
    private readonly redis: SlotRedis,
    private readonly keys: Keys,
    private readonly options: SlotStoreOptions,
  ) {}

  slotKey(id: SlotId): string {
    return this.keys.slot(id.taskId, id.group, id.periodKey);
  }

  /** The slot identity in a key of the active set; undefined for a key of another layout. */
  slotIdOf(slotKey: string): SlotId | undefined {
    const head = `${this.keys.prefix}slot:`;
    if (!slotKey.startsWith(head)) return undefined;
    // Task ids, zone groups (IANA names or `_`) and period keys contain no ':'.
    const parts = slotKey.slice(head.length).split(':');
    if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
    const [taskId, group, periodKey] = parts as [string, string, string];
    return { taskId, group, periodKey };
  }

  /**
   * Creates the slot of a planned claim if it is new and counts its planned jobs (metrics and the
   * period's stats, kept `statsTtlMs`); tells whether this caller won it.
   */
  async claim(
    plan: ClaimPlan,
    fence: number,
    now: number,
    staleAfterMs: number,
    statsTtlMs = DAY_MS,
  ): Promise<ClaimOutcome> {
    const id = { taskId: plan.taskId, group: plan.group, periodKey: plan.period.key };
    return this.runClaim(id, fence, now, staleAfterMs, statsTtlMs, [
      'claim',
      plan.period.dueAtMs,
      plan.period.key,
      plan.startAt,
      plan.windowMs,
      plan.total,
      plan.backfilled ? 1 : 0,
    ]);
  }

  /** Takes over a fanning slot that nobody has checkpointed for `staleAfterMs`, if `fence` is newer. */
  async resume(id: SlotId, fence: number, now: number, staleAfterMs: number): Promise<ClaimOutcome> {
    return this.runClaim(id, fence, now, staleAfterMs, DAY_MS, ['resume', 0, id.periodKey, 0, 0, 0, 0]);
  }

  private async runClaim(
    id: SlotId,
    fence: number,
    now: number,
    staleAfterMs: number,
    statsTtlMs: number,
    [mode, dueAt, periodKey, startAt, windowMs, total, backfilled]: [
      string,
      number,
      string,
      number,
      number,
      number,
      number,
    ],
  ): Promise<ClaimOutcome> {
    const k = this.keys;
    const keys = [
      this.slotKey(id),
      k.lastSlot(id.taskId, id.group),
      k.activeSlots,
      k.metrics,
      k.periodStats(id.taskId, periodKey),
      k.recentSlots,
    ];
    const args = [
      fence,
      now,
      mode,
      dueAt,
      periodKey,
      startAt,
      windowMs,
      total,
      backfilled,
      staleAfterMs,
      id.taskId,
      id.group,
      statsTtlMs,
      this.options.doneRetentionMs,
    ];
    const reply = SlotReply.parse(jsonReply(await runScript(this.redis, claimSlot, keys, args)));
    switch (reply.code) {
      case 1:
        return { kind: 'claimed', slot: slotOf(reply, claimSlot) };
      case 2:
        return { kind: 'resumed', slot: slotOf(reply, claimSlot) };
      case 0:
        return { kind: 'done' };
      case -1:
        return { kind: 'not-new' };
      case -2:
        return { kind: 'owned' };
      case -3:
        return { kind: 'missing' };
      default:
        throw new Error(`claimSlot replied code ${reply.code}`);
    }
  }

  /** Hands the slot to the continuation carrying `fence`; the new owner's fence is in the reply. */
  async take(id: SlotId, fence: number, now: number): Promise<TakeOutcome> {
    const reply = SlotReply.parse(
      jsonReply(
        await runScript(this.redis, takeSlot, [this.slotKey(id), this.keys.schedulerFence], [fence, now]),
      ),
    );
    switch (reply.code) {
      case 1:
        return { kind: 'taken', slot: slotOf(reply, takeSlot) };
      case 0:
        return { kind: 'done' };
      case -1:
        return { kind: 'missing' };
      case -2:
        return { kind: 'superseded' };
      default:
        throw new Error(`takeSlot replied code ${reply.code}`);
    }
  }

  /**
   * Checkpoints (cursor, count) under `fence`, then reads up to `pageSize` ids after the cursor
   * (0 = checkpoint only). An empty page marks the slot done. The same script counts the jobs
   * published since the last checkpoint (and `deduplicated`, QStash's duplicates among them) in the metrics.
   */
  async advance(
    slot: SlotId & { fence: number },
    position: { cursor: string; count: number },
    pageSize: number,
    now: number,
    deduplicated = 0,
  ): Promise<AdvanceOutcome> {
    const keys = [
      this.slotKey(slot),
      this.keys.taskIndex(slot.taskId, slot.group),
      this.keys.activeSlots,
      this.keys.metrics,
    ];
    const args = [
      slot.fence,
      now,
      position.cursor,
      position.count,
      pageSize,
      this.options.doneRetentionMs,
      slot.taskId,
      deduplicated,
    ];
    const reply = PageReply.parse(jsonReply(await runScript(this.redis, advanceSlot, keys, args)));
    switch (reply.code) {
      case 1:
        return { kind: 'page', ids: reply.ids ?? [] };
      case 2:
        return { kind: 'done' };
      case -1:
        return { kind: 'missing' };
      case -2:
        return { kind: 'stale' };
      case -3:
        return { kind: 'not-fanning' };
      case -4:
        return { kind: 'backwards' };
      default:
        throw new Error(`advanceSlot replied code ${reply.code}`);
    }
  }

  /** Due time of the last period claimed per (task, group), in the order asked; one MGET per 1,000 pairs. */
  async lastDueAts(pairs: readonly { taskId: string; group: string }[]): Promise<(number | undefined)[]> {
    const out: (number | undefined)[] = [];
    for (let i = 0; i < pairs.length; i += 1000) {
      const chunk = pairs.slice(i, i + 1000);
      const values = await this.redis.mget<unknown[]>(
        ...chunk.map((p) => this.keys.lastSlot(p.taskId, p.group)),
      );
      for (const v of values) {
        const dueAt = v === null || v === undefined ? NaN : Number(String(v).split(':')[0]);
        out.push(Number.isSafeInteger(dueAt) ? dueAt : undefined);
      }
    }
    return out;
  }

  /** Slots still fanning out (claimed, not done), oldest claim first. */
  async activeSlotIds(limit = 10_000): Promise<SlotId[]> {
    const members = await this.redis.zrange<unknown[]>(this.keys.activeSlots, 0, limit - 1);
    return members.map((m) => this.slotIdOf(String(m))).filter((id) => id !== undefined);
  }

  /** Slots claimed since `since` (epoch ms), oldest first. */
  async recentSlotIds(since: number, limit = 1000): Promise<SlotId[]> {
    const members = await this.redis.zrange<unknown[]>(this.keys.recentSlots, since, '+inf', {
      byScore: true,
      offset: 0,
      count: limit,
    });
    return members.map((m) => this.slotIdOf(String(m))).filter((id) => id !== undefined);
  }

  /** Current fields of the given slots (undefined where the hash is gone). */
  async read(ids: readonly SlotId[]): Promise<(SlotState | undefined)[]> {
    const hashes = await Promise.all(ids.map((id) => this.redis.hgetall(this.slotKey(id))));
    return hashes.map((h) => {
      const parsed = SlotFields.safeParse(h ?? {});
      return parsed.success ? parsed.data : undefined;
    });
  }
}
