// Every Lua script of the scheduler (a test pins their hashes; a seed can preload them).
import type { LuaScript } from '../../store/lua/script.js';
import { acquireLock } from './acquireLock-3.js';
import { advanceSlot } from './advanceSlot-4.js';
import { claimSlot } from './claimSlot-6.js';
import { releaseLock } from './releaseLock-1.js';
import { renewLock } from './renewLock-1.js';
import { readTickState } from './readTickState-2.js';
import { takeSlot } from './takeSlot-2.js';

export const SCHEDULER_SCRIPTS: readonly LuaScript[] = [
  acquireLock,
  renewLock,
  releaseLock,
  claimSlot,
  advanceSlot,
  takeSlot,
  readTickState,
];
