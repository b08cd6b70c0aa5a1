// Every Lua script of the worker side, for preloading and for the test that pins their hashes.
import type { LuaScript } from '../../store/lua/script.js';
import { deadLetterJob } from './deadLetterJob-5.js';
import { deleteDeadLetter } from './deleteDeadLetter-2.js';
import { recordRun } from './recordRun-6.js';
import { releaseClaim } from './releaseClaim-2.js';
import { replayDeadLetter } from './replayDeadLetter-3.js';
import { restoreDeadLetter } from './restoreDeadLetter-3.js';
import { startJob } from './startJob-7.js';

/** `startJob` takes its 7 fixed keys plus one per rate limit; the others take exactly `numKeys`. */
export const WORKER_SCRIPTS: readonly LuaScript[] = [
  startJob,
  recordRun,
  releaseClaim,
  deadLetterJob,
  replayDeadLetter,
  restoreDeadLetter,
  deleteDeadLetter,
];
