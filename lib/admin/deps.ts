// The admin services' dependencies, wired from the runtime once per Lambda instance.
import { runtime } from '../runtime.js';
import { keysFor } from '../store/keys.js';
import { PreferencesStore } from '../store/preferences.js';
import type { AdminDeps } from './users-service.js';

let cached: { deps: AdminDeps; for: object } | undefined;

export function adminDeps(): AdminDeps {
  const rt = runtime();
  // A reset runtime (tests) gets fresh deps.
  if (cached?.for !== rt) {
    cached = {
      for: rt,
      deps: {
        store: new PreferencesStore(rt.redis, keysFor(rt.config.STAGGER_KEY_PREFIX)),
        get catalog() {
          return rt.catalog;
        },
        now: Date.now,
      },
    };
  }
  return cached.deps;
}
