// Environment overrides of the task catalog, so one catalog file serves every deployment.
//
//   STAGGER_ALLOWED_HOSTS=a.example.com,127.0.0.1   replaces allowedHosts
//   STAGGER_TARGET_BASE_URL=https://api.example.com  replaces baseUrl (the value of {{baseUrl}})
//   STAGGER_RATE_LIMIT_<KEY>=<limit>/<window>        sets rateLimits.<key>, e.g. STAGGER_RATE_LIMIT_GLOBAL=200/1s
//   STAGGER_DISABLED_TASKS=weekly_backup,monthly_cleanup  sets enabled: false on those tasks
// Empty values count as unset.

export const ENV_ALLOWED_HOSTS = 'STAGGER_ALLOWED_HOSTS';
export const ENV_BASE_URL = 'STAGGER_TARGET_BASE_URL';
export const ENV_RATE_LIMIT_PREFIX = 'STAGGER_RATE_LIMIT_';
export const ENV_DISABLED_TASKS = 'STAGGER_DISABLED_TASKS';

export interface EnvOverrides {
  allowedHosts?: string[];
  baseUrl?: string;
  rateLimits: Record<string, { limit: number; window: string }>;
  disabledTasks: string[];
  /** Catalog path -> the variable that set it, so validation errors name the variable. */
  sources: Record<string, string>;
  issues: { path: string; message: string }[];
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export function readEnvOverrides(env: Readonly<Record<string, string | undefined>>): EnvOverrides {
  const overrides: EnvOverrides = { rateLimits: {}, disabledTasks: [], sources: {}, issues: [] };
  const hosts = env[ENV_ALLOWED_HOSTS];
  if (hosts) {
    overrides.allowedHosts = list(hosts);
    overrides.sources.allowedHosts = ENV_ALLOWED_HOSTS;
  }
  const baseUrl = env[ENV_BASE_URL];
  if (baseUrl) {
    overrides.baseUrl = baseUrl.trim();
    overrides.sources.baseUrl = ENV_BASE_URL;
  }
  const disabled = env[ENV_DISABLED_TASKS];
  if (disabled) overrides.disabledTasks = list(disabled);

  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_RATE_LIMIT_PREFIX) || !value) continue;
    const key = name.slice(ENV_RATE_LIMIT_PREFIX.length).toLowerCase();
    const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(value);
    if (!match) {
      overrides.issues.push({
        path: `env.${name}`,
        message: `Expected <limit>/<window>, e.g. "100/1s", got "${value}"`,
      });
      continue;
    }
    overrides.rateLimits[key] = { limit: Number(match[1]), window: match[2] ?? '' };
    overrides.sources[`rateLimits.${key}`] = name;
  }
  return overrides;
}

/** The raw catalog document with overrides applied (before validation, which checks them too). */
export function applyOverrides(doc: unknown, overrides: EnvOverrides): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return doc;
  const merged: Record<string, unknown> = { ...doc };
  if (overrides.allowedHosts) merged.allowedHosts = overrides.allowedHosts;
  if (overrides.baseUrl) merged.baseUrl = overrides.baseUrl;
  if (Object.keys(overrides.rateLimits).length > 0) {
    const existing = merged.rateLimits ?? {};
    // A malformed rateLimits stays as it is, to be reported.
    if (typeof existing === 'object' && existing !== null && !Array.isArray(existing)) {
      merged.rateLimits = { ...existing, ...overrides.rateLimits };
    }
  }
  return merged;
}
