// One scheduler tick as its own process (a second scheduler for the drills), on a drill clock, with short lock and staleness.
// Env: the stack's (UPSTASH_*, QSTASH_*, STAGGER_*), DRILL_NOW (epoch ms at start), DRILL_PAGE_SIZE, DRILL_HOLDER.
import { runtime } from '../../lib/runtime.js';
import { clockFrom } from '../../lib/scheduler/deps.js';
import { runTick } from '../../lib/scheduler/tick.js';

async function main() {
  const deps = runtime().scheduler;
  const now = Number(process.env['DRILL_NOW']);
  const summary = await runTick(
    {
      ...deps,
      clock: Number.isFinite(now) ? clockFrom(now) : deps.clock,
      settings: {
        ...deps.settings,
        pageSize: Number(process.env['DRILL_PAGE_SIZE'] ?? deps.settings.pageSize),
        lockTtlMs: 2_000,
        staleAfterMs: 2_000,
        slotConcurrency: 1,
      },
    },
    { holder: process.env['DRILL_HOLDER'] ?? `runner-${process.pid}`, timeLeft: () => 600_000 },
  );
  console.log(JSON.stringify({ msg: 'tick summary', summary }));
}

main().catch((err: unknown) => {
  console.error(
    JSON.stringify({ msg: 'tick failed', err: err instanceof Error ? err.message : String(err) }),
  );
  process.exit(1);
});
