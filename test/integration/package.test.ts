// `sls package --stage prod` (esbuild bundles, no AWS credentials): the CloudFormation template and the zips are what
// serverless.yml promises — the minute tick, every route on its function, timeouts, memory, runtime, secrets only as
// Secrets Manager references, and per function a self-contained bundle plus the catalog it reads at run time.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { node24 } from '../helpers/node24.js';
import { readZip } from '../helpers/zip.js';

const run = promisify(execFile);

interface FunctionSpec {
  handler: string;
  timeout?: number;
  memorySize?: number;
  events?: { httpApi?: { method: string; path: string }; schedule?: string | { rate: string } }[];
}
const config = parse(readFileSync('serverless.yml', 'utf8')) as {
  service: string;
  provider: { runtime: string; timeout: number; memorySize: number; architecture: string };
  functions: Record<string, FunctionSpec>;
};

/** The variables that hold secrets, with a value each that must never reach the artefacts. */
const SECRETS: Record<string, string> = {
  UPSTASH_REDIS_REST_URL: 'https://sentinel-redis-url.example.com',
  UPSTASH_REDIS_REST_TOKEN: 'sentinel-redis-token-5d1c',
  QSTASH_URL: 'https://sentinel-qstash-url.example.com',
  QSTASH_TOKEN: 'sentinel-qstash-token-9a2e',
  QSTASH_CURRENT_SIGNING_KEY: 'sig_sentinel_current_77f0',
  QSTASH_NEXT_SIGNING_KEY: 'sig_sentinel_next_41b3',
  STAGGER_ADMIN_API_KEYS: 'sentinel-admin-key-0123456789abcdef',
  STAGGER_METRICS_TOKENS: 'sentinel-metrics-token-0123456789abcdef',
};
/** Catalog overrides of the deploying shell: each must reach every function. */
const DEPLOY_SHELL: Record<string, string> = {
  STAGGER_TARGET_BASE_URL: 'https://tasks.example.com',
  STAGGER_ALLOWED_HOSTS: 'tasks.example.com',
  STAGGER_RATE_LIMIT_GLOBAL: '200/1s',
  STAGGER_LIMIT_GUARD_MS: '300',
};
/** A variable named like a credential is a secret too, listed above or not. */
const SECRET_NAME = /(_TOKENS?|_KEYS?|SECRET|PASSWORD)$/;

type Resource = { Type: string; Properties: Record<string, unknown> };
let outDir: string;
let template: { Resources: Record<string, Resource> };
let templateText: string;
let stateText: string;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'stagger-package-'));
  // The deploying shell's environment: secrets set (they must not be read for prod) and a local catalog path.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...SECRETS,
    STAGGER_CATALOG_PATH: join(outDir, 'elsewhere.yaml'),
    // prod refuses to build without a reachable target (test/integration/deploy-config.test.ts).
    ...DEPLOY_SHELL,
  };
  delete env['STAGGER_PUBLIC_URL'];
  await run('node_modules/.bin/sls', ['package', '--stage', 'prod', '--package', outDir], {
    env,
    timeout: 170_000,
  });
  templateText = readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8');
  template = JSON.parse(templateText) as typeof template;
  stateText = readFileSync(join(outDir, 'serverless-state.json'), 'utf8');
}, 180_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const resources = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

function lambdaOf(name: string): [string, Resource] {
  const found = resources('AWS::Lambda::Function').find(
    ([, r]) => r.Properties['FunctionName'] === `${config.service}-prod-${name}`,
  );
  if (!found) throw new Error(`no Lambda function for ${name}`);
  return found;
}

const getAtt = (value: unknown) => (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];

describe('sls package --stage prod', () => {
  it('schedules the tick every minute through an enabled EventBridge rule allowed to invoke it', () => {
    const [tickId] = lambdaOf('schedulerTick');
    const rules = resources('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0]!;
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect((rule.Properties['Targets'] as { Arn: unknown }[]).map((t) => getAtt(t.Arn))).toEqual([
      [tickId, 'Arn'],
    ]);
    const permission = resources('AWS::Lambda::Permission').find(
      ([, p]) => getAtt(p.Properties['SourceArn'])?.[0] === ruleId,
    );
    expect(permission?.[1].Properties).toMatchObject({
      Principal: 'events.amazonaws.com',
      Action: 'lambda:InvokeFunction',
    });
    expect(getAtt(permission?.[1].Properties['FunctionName'])).toEqual([tickId, 'Arn']);
  });

  it('has every httpApi route of serverless.yml, and only those, each on its own function', () => {
    const expected = Object.entries(config.functions).flatMap(([name, fn]) =>
      (fn.events ?? []).flatMap((e) =>
        // API Gateway spells serverless.yml's '*' method ANY (the catch-all fallback route).
        e.httpApi
          ? [
              [
                `${e.httpApi.method === '*' ? 'ANY' : e.httpApi.method.toUpperCase()} ${e.httpApi.path}`,
                name,
              ] as const,
            ]
          : [],
      ),
    );
    expect(expected.length).toBeGreaterThan(20);
    const actual = resources('AWS::ApiGatewayV2::Route').map(([, route]) => {
      const target = (route.Properties['Target'] as { 'Fn::Join': [string, [string, { Ref: string }]] })[
        'Fn::Join'
      ][1][1].Ref;
      const integration = template.Resources[target]!;
      expect(integration.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
      });
      return [
        route.Properties['RouteKey'] as string,
        getAtt(integration.Properties['IntegrationUri'])?.[0],
      ] as const;
    });
    const byKey = new Map(actual);
    expect(byKey.size).toBe(actual.length);
    expect([...byKey.keys()].sort()).toEqual(expected.map(([key]) => key).sort());
    for (const [key, name] of expected) expect(byKey.get(key), key).toBe(lambdaOf(name)[0]);
  });

  it('gives every function its handler, runtime, architecture, timeout and memory as configured', () => {
    expect(resources('AWS::Lambda::Function')).toHaveLength(Object.keys(config.functions).length);
    for (const [name, fn] of Object.entries(config.functions)) {
      const [, lambda] = lambdaOf(name);
      expect(lambda.Properties, name).toMatchObject({
        Handler: fn.handler,
        // A runtime AWS Lambda accepts for new and updated functions (nodejs20.x no longer is).
        Runtime: 'nodejs24.x',
        Architectures: [config.provider.architecture],
        Timeout: fn.timeout ?? config.provider.timeout,
        MemorySize: fn.memorySize ?? config.provider.memorySize,
      });
    }
    // API Gateway HTTP APIs end integrations at 30 s: an HTTP-invoked function must be able to answer before that.
    for (const [name, fn] of Object.entries(config.functions)) {
      if (fn.events?.some((e) => e.httpApi))
        expect(fn.timeout ?? config.provider.timeout, name).toBeLessThanOrEqual(30);
    }
  });

  it('holds no secret: each secret variable is a Secrets Manager reference, and no secret value appears anywhere', () => {
    for (const [name] of Object.entries(config.functions)) {
      const vars = ((lambdaOf(name)[1].Properties['Environment'] as { Variables: Record<string, unknown> })
        .Variables ?? {}) as Record<string, unknown>;
      for (const secret of new Set([
        ...Object.keys(SECRETS),
        ...Object.keys(vars).filter((v) => SECRET_NAME.test(v)),
      ])) {
        expect(vars[secret], `${name} ${secret}`).toBe(
          `{{resolve:secretsmanager:stagger/prod:SecretString:${secret}}}`,
        );
      }
      expect(vars['STAGE']).toBe('prod');
      for (const [k, v] of Object.entries(DEPLOY_SHELL)) expect(vars[k], `${name} ${k}`).toBe(v);
      // Not the deploying machine's catalog path: the zip's own copy.
      expect(vars['STAGGER_CATALOG_PATH']).toBe('config/tasks.yaml');
    }
    for (const value of Object.values(SECRETS)) {
      expect(templateText).not.toContain(value);
      expect(stateText).not.toContain(value);
    }
  });

  describe('the zips', () => {
    const catalog = readFileSync('config/tasks.yaml');
    let unpacked: string;
    const modules: { name: string; file: string; exportName: string }[] = [];

    beforeAll(() => {
      unpacked = join(outDir, 'unpacked');
      for (const [name, fn] of Object.entries(config.functions)) {
        const entries = readZip(join(outDir, `${name}.zip`));
        const dot = fn.handler.lastIndexOf('.');
        const bundle = `${fn.handler.slice(0, dot)}.mjs`;
        for (const [entry, content] of entries) {
          if (entry.endsWith('/')) continue;
          const to = join(unpacked, name, entry);
          mkdirSync(dirname(to), { recursive: true });
          writeFileSync(to, content);
        }
        modules.push({ name, file: join(unpacked, name, bundle), exportName: fn.handler.slice(dot + 1) });
      }
    });

    it('each hold the bundled handler, its source map and the catalog, and no TypeScript or node_modules', () => {
      for (const [name, fn] of Object.entries(config.functions)) {
        const entries = readZip(join(outDir, `${name}.zip`));
        const bundle = `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.mjs`;
        expect([...entries.keys()].filter((e) => !e.endsWith('/')).sort(), name).toEqual(
          [bundle, `${bundle}.map`, 'config/tasks.yaml'].sort(),
        );
        expect(entries.get('config/tasks.yaml')?.equals(catalog), `${name} catalog`).toBe(true);
        const code = entries.get(bundle)!.toString('utf8');
        for (const value of Object.values(SECRETS)) expect(code).not.toContain(value);
      }
    });

    // The machine's Node (local development) and Node 24, the version nodejs24.x runs them on.
    it.each([
      ['this machine', () => process.execPath],
      ['Node 24', node24],
    ])(
      'import under plain node (%s; no tsx, no environment) and export their handlers',
      async (_label, nodeBin) => {
        const script = `
        const modules = JSON.parse(process.argv[1]);
        const out = {};
        for (const m of modules) out[m.name] = typeof (await import(m.file))[m.exportName];
        console.log(JSON.stringify(out));`;
        const { stdout } = await run(
          nodeBin(),
          ['--input-type=module', '-e', script, JSON.stringify(modules)],
          {
            cwd: unpacked,
            env: { PATH: process.env['PATH'] ?? '' },
            timeout: 60_000,
          },
        );
        const types = JSON.parse(stdout) as Record<string, string>;
        expect(Object.keys(types).sort()).toEqual(Object.keys(config.functions).sort());
        for (const [name, type] of Object.entries(types)) expect(type, name).toBe('function');
      },
    );

    it.each([
      ['this machine', () => process.execPath],
      ['Node 24', node24],
    ])('run (%s): the openapi bundle answers its route from the zip alone', async (_label, nodeBin) => {
      const script = `
        const { handler } = await import(process.argv[1]);
        const event = { version: '2.0', routeKey: 'GET /openapi.json', rawPath: '/openapi.json', rawQueryString: '', headers: {},
          isBase64Encoded: false, requestContext: { http: { method: 'GET', path: '/openapi.json' }, requestId: 'r1' } };
        const res = await handler(event, { functionName: 'openapi', awsRequestId: 'r1', getRemainingTimeInMillis: () => 5000 });
        console.log(JSON.stringify({ status: res.statusCode, openapi: JSON.parse(res.body).openapi }));`;
      const openapi = modules.find((m) => m.name === 'openapi')!;
      const { stdout } = await run(nodeBin(), ['--input-type=module', '-e', script, openapi.file], {
        cwd: join(unpacked, 'openapi'),
        env: { PATH: process.env['PATH'] ?? '' },
        timeout: 30_000,
      });
      expect(JSON.parse(stdout)).toEqual({ status: 200, openapi: '3.1.0' });
    });

    it('stay under 10 MiB each when zipped (Lambda takes 50 MiB)', () => {
      const zips = readdirSync(outDir).filter((f) => f.endsWith('.zip'));
      expect(zips).toHaveLength(Object.keys(config.functions).length);
      for (const zip of zips)
        expect(readFileSync(join(outDir, zip)).length, zip).toBeLessThan(10 * 1024 * 1024);
    });
  });
});
