// The tick's first read (paused task types, every task's zone groups, slots still fanning out) as one script call.
import type { Keys } from '../store/keys.js';
import { jsonReply, runScript, type ScriptRedis } from '../store/lua/script.js';
import { readTickState as script } from './lua/scripts.generated.js';
import type { SlotId } from './slots.js';

export interface TickState {
  paused: Set<string>;
  /** Per task, in the order asked: zone group -> index members. */
  zones: Record<string, number>[];
  active: SlotId[];
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export async function readTickState(
  redis: ScriptRedis,
  keys: Keys,
  taskIds: readonly string[],
  slotIdOf: (slotKey: string) => SlotId | undefined,
  activeLimit = 10_000,
): Promise<TickState> {
  const reply = jsonReply(
    await runScript(
      redis,
      script,
      [keys.pausedTasks, keys.activeSlots, ...taskIds.map((id) => keys.taskZones(id))],
      [activeLimit],
    ),
  ) as { paused?: unknown; active?: unknown; zones?: unknown };
  const zones = taskIds.map((_, i) => {
    const flat = list(list(reply.zones)[i]);
    const out: Record<string, number> = {};
    for (let j = 0; j + 1 < flat.length; j += 2) out[String(flat[j])] = Number(flat[j + 1]);
    return out;
  });
  return {
    paused: new Set(list(reply.paused).map(String)),
    zones,
    active: list(reply.active)
      .map((k) => slotIdOf(String(k)))
      .filter((id): id is SlotId => id !== undefined),
  };
}
