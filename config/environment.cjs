// Every environment variable stagger reads, in one list: the functions' environment in serverless.yml is built from
// it, the README's variable table is checked against it, and a test checks that the code reads nothing else.
// Plain CommonJS so serverless.yml can `${file(./config/environment.cjs):environment}` it without a TypeScript loader.
'use strict';
/* global process, URL */

/**
 * @typedef {object} Variable
 * @property {string} name            the variable, or a pattern such as STAGGER_RATE_LIMIT_<KEY>
 * @property {string} default         what applies when it is unset ('' = nothing, described in `doc`)
 * @property {'local'|'prod'|'both'} applies  where it has an effect
 * @property {'function'|'secret'|'stack'|'platform'} kind
 *   function: passed to the Lambda functions from the deploying shell (or the local stack);
 *   secret: passed to the functions, from the `stagger/prod` secret on prod;
 *   stack: read by the local stack's scripts (npm run dev, seed, bridge, broker) only;
 *   platform: set by AWS Lambda or serverless itself, never by you.
 * @property {string} [param]          serverless.yml `params` entry that holds its value per stage
 * @property {string} doc
 */

/** @type {Variable[]} */
const VARIABLES = [
  // The functions (local and prod).
  {
    name: 'STAGE',
    default: 'local',
    applies: 'both',
    kind: 'platform',
    doc: 'the serverless stage (`--stage`), set by serverless.yml; `local` allows `now` in `POST /v1/scheduler/run` and a loopback target',
  },
  {
    name: 'LOG_LEVEL',
    default: 'info',
    applies: 'both',
    kind: 'function',
    param: 'logLevel',
    doc: 'pino level: `debug` adds the job message, `silent` mutes',
  },
  {
    name: 'UPSTASH_REDIS_REST_URL',
    default: 'http://127.0.0.1:8079',
    applies: 'both',
    kind: 'secret',
    param: 'redisUrl',
    doc: 'Upstash Redis REST URL (locally the bridge)',
  },
  {
    name: 'UPSTASH_REDIS_REST_TOKEN',
    default: 'stagger-local-redis-token',
    applies: 'both',
    kind: 'secret',
    param: 'redisToken',
    doc: 'Upstash Redis REST token',
  },
  {
    name: 'QSTASH_URL',
    default: 'http://127.0.0.1:8080',
    applies: 'both',
    kind: 'secret',
    param: 'qstashUrl',
    doc: 'QStash API URL (locally the broker)',
  },
  {
    name: 'QSTASH_TOKEN',
    default: 'stagger-local-qstash-token',
    applies: 'both',
    kind: 'secret',
    param: 'qstashToken',
    doc: 'QStash token',
  },
  {
    name: 'QSTASH_CURRENT_SIGNING_KEY',
    default: 'sig_stagger_local_current',
    applies: 'both',
    kind: 'secret',
    param: 'qstashCurrentSigningKey',
    doc: 'QStash signing key deliveries are verified with',
  },
  {
    name: 'QSTASH_NEXT_SIGNING_KEY',
    default: 'sig_stagger_local_next',
    applies: 'both',
    kind: 'secret',
    param: 'qstashNextSigningKey',
    doc: 'QStash next signing key (tried second, for rotation)',
  },
  {
    name: 'STAGGER_ADMIN_API_KEYS',
    default: 'stagger-local-admin-key',
    applies: 'both',
    kind: 'secret',
    param: 'adminApiKeys',
    doc: 'admin Bearer keys, comma-separated, 16+ characters each',
  },
  {
    name: 'STAGGER_METRICS_TOKENS',
    default: '',
    applies: 'both',
    kind: 'secret',
    param: 'metricsTokens',
    doc: 'read-only Bearer tokens for `GET /metrics`, comma-separated, 16+ characters each; empty = none',
  },
  {
    name: 'STAGGER_PUBLIC_URL',
    default: '`http://127.0.0.1:3000`; prod: the HTTP API URL',
    applies: 'both',
    kind: 'function',
    param: 'publicUrl',
    doc: 'base URL at which QStash reaches the worker and the failure callback; set it on prod for a custom domain',
  },
  {
    name: 'STAGGER_KEY_PREFIX',
    default: 'stagger:',
    applies: 'both',
    kind: 'function',
    param: 'keyPrefix',
    doc: 'prefix of every Redis key (also `npm run seed`)',
  },
  {
    name: 'STAGGER_CATALOG_PATH',
    default: 'config/tasks.yaml',
    applies: 'local',
    kind: 'function',
    param: 'catalogPath',
    doc: 'task catalog file; prod always reads the `config/tasks.yaml` packaged in each zip',
  },
  {
    name: 'STAGGER_TARGET_BASE_URL',
    default: "the catalog's `baseUrl`",
    applies: 'both',
    kind: 'function',
    doc: "replaces the catalog's `baseUrl` (`{{baseUrl}}` in target URLs); **required on prod**, not a loopback address",
  },
  {
    name: 'STAGGER_ALLOWED_HOSTS',
    default: "the catalog's `allowedHosts`",
    applies: 'both',
    kind: 'function',
    doc: "replaces the catalog's `allowedHosts` (comma-separated); **required on prod**, must hold the target's host",
  },
  {
    name: 'STAGGER_RATE_LIMIT_<KEY>',
    default: "the catalog's `rateLimits.<key>`",
    applies: 'both',
    kind: 'function',
    doc: 'sets `rateLimits.<key>`, e.g. `STAGGER_RATE_LIMIT_GLOBAL=200/1s`; every one set in the deploying shell reaches the functions',
  },
  {
    name: 'STAGGER_DISABLED_TASKS',
    default: '',
    applies: 'both',
    kind: 'function',
    doc: 'task ids (comma-separated) treated as `enabled: false`',
  },
  {
    name: 'STAGGER_TICK_ENABLED',
    default: 'true',
    applies: 'both',
    kind: 'stack',
    doc: 'read by `sls` at deploy or `npm run dev`: `false` leaves the minute rule off, so ticks come only from `POST /v1/scheduler/run`',
  },
  {
    name: 'STAGGER_LIMIT_GUARD_MS',
    default: '50',
    applies: 'both',
    kind: 'function',
    doc: 'added to every rate-limit window (ms): covers a reserved instant to the call arriving; half for the wake-up (the worker gives a reservation back when it wakes later), half for the way to the target (raise it for far targets)',
  },
  {
    name: 'STAGGER_MAX_WAIT_MS',
    default: '3000',
    applies: 'both',
    kind: 'function',
    doc: 'longest the worker waits in process for its rate-limit reservation (ms); a later one is deferred (re-published)',
  },
  {
    name: 'STAGGER_BATCH_RETRY_DELAY_MS',
    default: '',
    applies: 'both',
    kind: 'function',
    doc: "delay before the next attempt of a job that failed inside a batch (ms), sent on as a message of its own; unset: QStash's backoff before a first retry (about 12 s)",
  },
  {
    name: 'STAGGER_FANOUT_PAGE_SIZE',
    default: '500',
    applies: 'both',
    kind: 'function',
    doc: 'user ids per fan-out page (1..1000)',
  },
  {
    name: 'STAGGER_FANOUT_BUDGET_MS',
    default: '40000',
    applies: 'both',
    kind: 'function',
    doc: 'longest one scheduler invocation fans out before handing over to a continuation message',
  },
  {
    name: 'STAGGER_BATCH_SPAN_MS',
    default: '15000',
    applies: 'both',
    kind: 'function',
    doc: "longest span (ms, first planned start to last) of one batch message of a slot's jobs planned close together; 0 = one QStash message a job",
  },
  {
    name: 'STAGGER_DLQ_SWEEP_MS',
    default: '300000',
    applies: 'both',
    kind: 'function',
    doc: "how often a tick moves stagger's jobs found in QStash's DLQ into stagger's dead letters (ms; 0 = never)",
  },
  {
    name: 'STAGGER_ADMIN_LIMITS',
    default: 'on',
    applies: 'both',
    kind: 'function',
    doc: 'admin API abuse limits (`@upstash/ratelimit`, per key and per source address); `off` when a gateway in front limits instead',
  },
  {
    name: 'STAGGER_ADMIN_LIMIT_READS',
    default: '1200/1m',
    applies: 'both',
    kind: 'function',
    doc: 'admin reads (`GET`) per key and per address, `<requests>/<window>`',
  },
  {
    name: 'STAGGER_ADMIN_LIMIT_WRITES',
    default: '600/1m',
    applies: 'both',
    kind: 'function',
    doc: 'admin writes per key and per address',
  },
  {
    name: 'STAGGER_ADMIN_LIMIT_RUN_NOW',
    default: '30/1m',
    applies: 'both',
    kind: 'function',
    doc: '`POST .../run` (run now) per key and per address',
  },
  {
    name: 'AWS_LAMBDA_FUNCTION_NAME',
    default: '',
    applies: 'prod',
    kind: 'platform',
    doc: 'set by Lambda; the `fn` field of every log line',
  },
  {
    name: 'STAGGER_PROCESS',
    default: 'stagger',
    applies: 'local',
    kind: 'stack',
    doc: 'the `fn` field of log lines outside Lambda',
  },
  // Deploying.
  {
    name: 'AWS_REGION',
    default: 'eu-west-1',
    applies: 'prod',
    kind: 'stack',
    doc: 'region `sls deploy` deploys to (or `--region`)',
  },
  // The local stack (`npm run dev`, `npm run demo`, seed, bridge, broker).
  {
    name: 'REDIS_PORT',
    default: '6380',
    applies: 'local',
    kind: 'stack',
    doc: 'port of the redis-server `npm run dev` starts',
  },
  {
    name: 'REDIS_URL',
    default: '',
    applies: 'local',
    kind: 'stack',
    doc: 'use this Redis instead of starting one (also `npm run bridge` / `npm run broker`, default `redis://127.0.0.1:6380`)',
  },
  {
    name: 'BRIDGE_PORT',
    default: '8079',
    applies: 'local',
    kind: 'stack',
    doc: 'Upstash REST bridge port (also where `npm run seed` looks for it)',
  },
  {
    name: 'BRIDGE_HOST',
    default: '127.0.0.1',
    applies: 'local',
    kind: 'stack',
    doc: 'interface of `npm run bridge`',
  },
  {
    name: 'BROKER_PORT',
    default: '8080',
    applies: 'local',
    kind: 'stack',
    doc: 'QStash-compatible broker port',
  },
  {
    name: 'BROKER_HOST',
    default: '127.0.0.1',
    applies: 'local',
    kind: 'stack',
    doc: 'interface of `npm run broker`',
  },
  {
    name: 'BROKER_KEY_PREFIX',
    default: 'qstash:',
    applies: 'local',
    kind: 'stack',
    doc: "prefix of the broker's Redis keys (`npm run broker`)",
  },
  {
    name: 'BROKER_CONCURRENCY',
    default: '32',
    applies: 'local',
    kind: 'stack',
    doc: 'deliveries in flight at once (`npm run broker`)',
  },
  {
    name: 'BROKER_RETRY_BASE_MS',
    default: '1000',
    applies: 'local',
    kind: 'stack',
    doc: "first retry delay of the broker (doubling); `qstash` for QStash's own curve (`npm run broker`)",
  },
  { name: 'TARGET_PORT', default: '4000', applies: 'local', kind: 'stack', doc: 'demo task target port' },
  {
    name: 'OFFLINE_HTTP_PORT',
    default: '3000',
    applies: 'local',
    kind: 'stack',
    doc: 'serverless-offline HTTP port (the API)',
  },
  {
    name: 'OFFLINE_LAMBDA_PORT',
    default: '3002',
    applies: 'local',
    kind: 'stack',
    doc: 'serverless-offline Lambda invoke port',
  },
  {
    name: 'OFFLINE_HOST',
    default: '127.0.0.1',
    applies: 'local',
    kind: 'stack',
    doc: 'serverless-offline interface (`npm run dev` sets it from `DEV_HOST`)',
  },
  {
    name: 'DEV_HOST',
    default: '127.0.0.1',
    applies: 'local',
    kind: 'stack',
    doc: 'interface every part of `npm run dev` listens on (`0.0.0.0` in a container)',
  },
  {
    name: 'DEV_DATA_DIR',
    default: '.local/redis',
    applies: 'local',
    kind: 'stack',
    doc: "redis-server's data directory (`npm run demo`: `.local/demo`)",
  },
  // The drill suite (`npm run drills`): what the drill runner tells the scheduler process it starts.
  {
    name: 'DRILL_NOW',
    default: '',
    applies: 'local',
    kind: 'stack',
    doc: "drills: the tick's explicit now (ms) in a drill's own scheduler process",
  },
  {
    name: 'DRILL_PAGE_SIZE',
    default: '',
    applies: 'local',
    kind: 'stack',
    doc: "drills: fan-out page size of a drill's own scheduler process",
  },
  {
    name: 'DRILL_HOLDER',
    default: '',
    applies: 'local',
    kind: 'stack',
    doc: "drills: the lock holder name of a drill's own scheduler process",
  },
  {
    name: 'DRILLS_DEBUG',
    default: '',
    applies: 'local',
    kind: 'stack',
    doc: "drills: `1` prints the output of the drills' own scheduler processes",
  },
  // LocalStack (`npm run localstack`, `npm run test:localstack`, docs/localstack.md).
  {
    name: 'LOCALSTACK_PORT',
    default: '4566',
    applies: 'local',
    kind: 'stack',
    doc: 'port `npm run localstack` serves LocalStack on (the suite picks a free one)',
  },
  {
    name: 'AWS_ENDPOINT_URL',
    default: 'http://127.0.0.1:4566',
    applies: 'local',
    kind: 'stack',
    doc: 'the LocalStack endpoint `sls deploy --stage localstack` deploys to; the `localstack` stage builds its public URL on it',
  },
  {
    name: 'PATH',
    default: '/usr/bin:/bin',
    applies: 'local',
    kind: 'platform',
    doc: "the shell's; passed on to LocalStack and the function processes it starts",
  },
  {
    name: 'HOME',
    default: '',
    applies: 'local',
    kind: 'platform',
    doc: "the shell's; passed on to LocalStack (its cache folders)",
  },
];

const RATE_LIMIT_PREFIX = 'STAGGER_RATE_LIMIT_';
const RATE_LIMIT_NAME = /^STAGGER_RATE_LIMIT_[A-Z0-9_]+$/;
/** Stages on which the targets may be on this machine (the local stack, LocalStack). */
const LOOPBACK_STAGES = ['local', 'localstack'];

/** Whether `name` is one of the variables (a STAGGER_RATE_LIMIT_<KEY> matches its pattern). */
function isKnown(name) {
  return RATE_LIMIT_NAME.test(name) || VARIABLES.some((v) => v.name === name);
}

function isLoopbackHost(host) {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127\./.test(h) || h === '::1' || h === '0.0.0.0';
}

const list = (value) =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * What a deployed (non-loopback) stage needs of the catalog overrides, as one sentence per problem, each naming
 * its variable. Empty on `local` and `localstack`. Used at deploy (below) and at cold start (lib/config.ts).
 */
function stageProblems(stage, env) {
  if (LOOPBACK_STAGES.includes(stage)) return [];
  const problems = [];
  const base = String(env.STAGGER_TARGET_BASE_URL ?? '').trim();
  let targetHost;
  if (!base) {
    problems.push(
      `STAGGER_TARGET_BASE_URL is unset: stage ${stage} needs the public base URL of the task targets (without it every job goes to the catalog's loopback baseUrl)`,
    );
  } else if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) {
    problems.push(
      `STAGGER_TARGET_BASE_URL is not an http(s) URL: stage ${stage} needs the targets' base URL`,
    );
  } else {
    targetHost = new URL(base).hostname.toLowerCase();
    if (isLoopbackHost(targetHost))
      problems.push(
        `STAGGER_TARGET_BASE_URL points at a loopback address (${targetHost}): stage ${stage} cannot reach this machine`,
      );
  }
  const hosts = list(env.STAGGER_ALLOWED_HOSTS).map((h) => h.toLowerCase());
  if (hosts.length === 0) {
    problems.push(
      `STAGGER_ALLOWED_HOSTS is unset: stage ${stage} needs the target hosts jobs may call (comma-separated)`,
    );
  } else if (targetHost && !isLoopbackHost(targetHost) && !hosts.includes(targetHost)) {
    problems.push(
      `STAGGER_ALLOWED_HOSTS does not include ${targetHost}, the host of STAGGER_TARGET_BASE_URL`,
    );
  }
  return problems;
}

/** A one-line error: serverless prints the stack of what a resolver throws, and a stack would bury the variable. */
function oneLineError(message) {
  const error = new Error(message);
  error.stack = message;
  return error;
}

/**
 * serverless.yml `provider.environment`: every variable of kind function/secret for the stage being built (values
 * from the stage's params, else from the deploying shell), every STAGGER_RATE_LIMIT_<KEY> of the deploying shell,
 * and STAGE. On a deployed stage, refuses (one line naming the variable) a target the functions could not reach.
 */
async function environment({ options, resolveVariable }) {
  const stage = options.stage ?? 'local';
  const env = { STAGE: stage, NODE_OPTIONS: '--enable-source-maps' };
  for (const v of VARIABLES) {
    if (v.kind !== 'function' && v.kind !== 'secret') continue;
    if (v.name.includes('<')) continue;
    // Unset overrides stay out: an empty value would read as a value (a 0 ms guard, say), not as the default.
    const value = v.param ? await resolveVariable(`param:${v.param}`) : process.env[v.name];
    if (value !== undefined && value !== '') env[v.name] = value;
    else if (v.param) env[v.name] = '';
  }
  for (const [name, value] of Object.entries(process.env)) {
    if (RATE_LIMIT_NAME.test(name) && value) env[name] = value;
  }
  const problems = stageProblems(stage, env);
  if (problems.length > 0) throw oneLineError(problems.join('; '));
  return env;
}

/** A default as a table cell: a plain value in backticks, prose (it has spaces or backticks) as it is. */
const defaultCell = (value) => (value === '' ? '—' : /[\s`]/.test(value) ? value : `\`${value}\``);

/** The README's variable table (between `<!-- variables:begin -->` and `<!-- variables:end -->`), from the list. */
function variablesTable() {
  const rows = VARIABLES.map(
    (v) => `| \`${v.name}\` | ${defaultCell(v.default)} | ${v.applies} | ${v.doc} |`,
  );
  return ['| variable | default | applies | what |', '|---|---|---|---|', ...rows].join('\n');
}

module.exports = {
  VARIABLES,
  RATE_LIMIT_PREFIX,
  LOOPBACK_STAGES,
  isKnown,
  isLoopbackHost,
  stageProblems,
  environment,
  variablesTable,
};
