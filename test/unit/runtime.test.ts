// The composition root: services built once per instance from one config; a broken catalog or bad admin limits
// fail only what reads them, and a fixed catalog is picked up by the next call.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { CatalogError } from '../../lib/domain/catalog.js';
import { ConfigError } from '../../lib/errors.js';
import { createRuntime, resetRuntime, runtime } from '../../lib/runtime.js';

const BASE_ENV = {
  STAGE: 'local',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9/',
  UPSTASH_REDIS_REST_TOKEN: 'redis-token',
  QSTASH_URL: 'http://127.0.0.1:9/',
  QSTASH_TOKEN: 'qstash-token',
  QSTASH_CURRENT_SIGNING_KEY: 'sig_current',
  QSTASH_NEXT_SIGNING_KEY: 'sig_next',
  STAGGER_ADMIN_API_KEYS: 'runtime-test-admin-key',
  STAGGER_PUBLIC_URL: 'http://127.0.0.1:9/',
  STAGGER_KEY_PREFIX: 'rt-test:',
};

describe('the composition root', () => {
  const dirs: string[] = [];
  const saved = { ...process.env };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    process.env = { ...saved };
    resetRuntime();
  });

  function catalogPath(): string {
    const dir = mkdtempSync(join(tmpdir(), 'stagger-runtime-'));
    dirs.push(dir);
    return join(dir, 'tasks.yaml');
  }

  it('passes the config to every service that reads a setting', () => {
    const env = {
      ...BASE_ENV,
      STAGGER_LIMIT_GUARD_MS: '321',
      STAGGER_FANOUT_PAGE_SIZE: '77',
      STAGGER_FANOUT_BUDGET_MS: '12345',
      STAGGER_BATCH_SPAN_MS: '4321',
    };
    const rt = createRuntime(loadConfig(env), env);
    expect(rt.keys.user('u')).toBe('rt-test:user:u');
    expect(rt.delivery.store.rateGuardMs).toBe(321);
    expect(rt.monitoring.guardMs).toBe(321);
    expect(rt.scheduler.settings).toMatchObject({
      pageSize: 77,
      budgetMs: 12345,
      limitGuardMs: 321,
      batchSpanMs: 4321,
    });
    expect(rt.scheduler.publisher).toBe(rt.publisher);
    expect(rt.delivery.publisher).toBe(rt.publisher);
    expect(rt.monitoring.deadLetters).toBe(rt.deadLetters);
    expect(typeof rt.scheduler.sweepDlq).toBe('function');
    const off = { ...env, STAGGER_DLQ_SWEEP_MS: '0' };
    expect(createRuntime(loadConfig(off), off).scheduler.sweepDlq).toBeUndefined();
  });

  it('fails only the calls that read a broken catalog, and reads it again once it is fixed', () => {
    const path = catalogPath();
    writeFileSync(path, 'tasks: [ { id: 1 } ]\n');
    const env = { ...BASE_ENV, STAGGER_CATALOG_PATH: path };
    const rt = createRuntime(loadConfig(env), env);
    // Nothing that needs no catalog fails.
    expect(rt.deadLetters).toBeDefined();
    expect(rt.jobReads).toBeDefined();
    expect(rt.receiver).toBeDefined();
    expect(rt.admin.store).toBeDefined();
    for (const read of [
      () => rt.catalog,
      () => rt.admin.catalog,
      () => rt.delivery.catalog,
      () => rt.monitoring.catalog,
      () => rt.scheduler.tasks,
    ])
      expect(read).toThrow(CatalogError);

    copyFileSync('config/tasks.yaml', path);
    const catalog = rt.catalog;
    expect(catalog.tasks.map((t) => t.id)).toContain('daily_user_report');
    expect(rt.admin.catalog).toBe(catalog);
    expect(rt.delivery.catalog).toBe(catalog);
    expect(rt.monitoring.catalog).toBe(catalog);
    expect(rt.scheduler.tasks).toBe(rt.scheduler.tasks);
    expect([...rt.scheduler.tasks.keys()]).toContain('daily_user_report');
  });

  it('fails only the admin limiter on bad admin-limit settings', () => {
    const env = { ...BASE_ENV, STAGGER_ADMIN_LIMITS: 'sometimes' };
    const rt = createRuntime(loadConfig(env), env);
    expect(() => rt.adminLimiter).toThrow(ConfigError);
    expect(rt.deadLetters).toBeDefined();
    const good = createRuntime(loadConfig(BASE_ENV), BASE_ENV);
    expect(good.adminLimiter).toBe(good.adminLimiter);
  });

  it('builds one root per instance until reset, then one from the environment of that moment', () => {
    process.env = { ...BASE_ENV };
    const first = runtime();
    expect(runtime()).toBe(first);
    expect(runtime().deadLetters).toBe(first.deadLetters);
    process.env = { ...BASE_ENV, STAGGER_KEY_PREFIX: 'rt-other:' };
    expect(runtime().keys.user('u')).toBe('rt-test:user:u');
    resetRuntime();
    expect(runtime()).not.toBe(first);
    expect(runtime().keys.user('u')).toBe('rt-other:user:u');
  });
});
