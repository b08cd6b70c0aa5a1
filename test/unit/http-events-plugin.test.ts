// config/http-events.cjs: a stage's httpEvents param turns serverless.yml's httpApi events into REST API events.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

type Event = Record<string, unknown>;
interface FakeServerless {
  service: { custom?: { httpEvents?: string }; functions: Record<string, { events?: Event[] }> };
  classes: { Error: typeof Error };
}
const HttpEvents = createRequire(import.meta.url)('../../config/http-events.cjs') as new (
  sls: FakeServerless,
) => {
  hooks: { initialize: () => void };
};

function serviceWith(httpEvents: string | undefined): FakeServerless {
  return {
    service: {
      ...(httpEvents === undefined ? {} : { custom: { httpEvents } }),
      functions: {
        getUser: { events: [{ httpApi: { method: 'GET', path: '/v1/users/{userId}' } }] },
        fallback: { events: [{ httpApi: { method: '*', path: '/{proxy+}' } }] },
        tick: { events: [{ schedule: 'rate(1 minute)' }] },
        bare: {},
      },
    },
    classes: { Error },
  };
}

describe('the httpEvents plugin', () => {
  it('leaves httpApi events as they are by default and for httpApi', () => {
    for (const choice of [undefined, 'httpApi']) {
      const sls = serviceWith(choice);
      new HttpEvents(sls).hooks.initialize();
      expect(sls.service.functions['getUser']!.events).toEqual([
        { httpApi: { method: 'GET', path: '/v1/users/{userId}' } },
      ]);
    }
  });

  it('turns every httpApi event into an http (REST API) event with the same method (`*` as ANY) and path, and nothing else', () => {
    const sls = serviceWith('http');
    new HttpEvents(sls).hooks.initialize();
    expect(sls.service.functions).toEqual({
      getUser: { events: [{ http: { method: 'GET', path: '/v1/users/{userId}' } }] },
      // HTTP API's "every method" is REST API's ANY.
      fallback: { events: [{ http: { method: 'ANY', path: '/{proxy+}' } }] },
      tick: { events: [{ schedule: 'rate(1 minute)' }] },
      bare: { events: [] },
    });
  });

  it('refuses any other value, naming it', () => {
    expect(() => new HttpEvents(serviceWith('rest')).hooks.initialize()).toThrow(/'rest'/);
  });
});
