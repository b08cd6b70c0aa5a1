// PUT /v1/users/{id} under a concurrent DELETE: create-or-replace never answers 404 (schemathesis found one with two
// workers: the DELETE landed between the write and its read back).
import { describe, expect, it } from 'vitest';
import { putUser, type AdminDeps } from '../../lib/admin/users-service.js';
import type { Catalog } from '../../lib/domain/catalog.js';
import { ConflictError } from '../../lib/errors.js';
import type { PreferencesStore, UserWithTasks } from '../../lib/store/preferences.js';

/** A store whose user is deleted by "someone else" right after each of the first `deletes` writes. */
function racingStore(deletes: number) {
  let stored: UserWithTasks | undefined;
  let writes = 0;
  const store = {
    async upsertUser(u: { id: string; zone: string; enabled: boolean; labels: Record<string, string> }) {
      writes++;
      const created = stored === undefined;
      stored = { ...u, createdAt: 1, updatedAt: 2, tasks: {} };
      if (writes <= deletes) stored = undefined; // the concurrent DELETE wins the race to the read
      return created ? ('created' as const) : ('updated' as const);
    },
    async getUser() {
      return stored ?? null;
    },
  };
  return { store: store as unknown as PreferencesStore, writes: () => writes };
}

const deps = (store: PreferencesStore): AdminDeps => ({
  store,
  catalog: { tasks: [] } as unknown as Catalog, // putUser never reads the catalog
  now: () => 0,
});
const body = { zone: 'UTC', enabled: true, labels: {} };

describe('putUser', () => {
  it('applies the PUT again when a DELETE removed the user before the read back, and answers the user', async () => {
    const s = racingStore(1);
    const result = await putUser(deps(s.store), 'ada', body);
    expect(result.user).toMatchObject({ id: 'ada', zone: 'UTC', enabled: true });
    expect(result.created).toBe(true);
    expect(s.writes()).toBe(2);
  });

  it('answers 409, never 404, when DELETEs keep winning, after a bounded number of writes', async () => {
    const s = racingStore(Number.POSITIVE_INFINITY);
    const err = await putUser(deps(s.store), 'ada', body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(s.writes()).toBe(3);
  });

  it('writes once when nothing races', async () => {
    const s = racingStore(0);
    const result = await putUser(deps(s.store), 'ada', body);
    expect(result.created).toBe(true);
    expect(s.writes()).toBe(1);
  });
});
