// Serverless plugin: a stage's `httpEvents` param chooses how the routes are served. `httpApi` (default): HTTP API,
// payload 2.0, as written in serverless.yml. `http`: REST API (v1), payload 1.0, for what only it offers (usage
// plans, API keys, WAF) and for emulators without HTTP API (LocalStack's community edition). lib/http/event.ts
// reads both payloads the same way.
class HttpEvents {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { initialize: () => this.apply() };
  }

  apply() {
    const service = this.serverless.service;
    const kind = service.custom?.httpEvents ?? 'httpApi';
    if (kind === 'httpApi') return;
    if (kind !== 'http') {
      throw new this.serverless.classes.Error(`param httpEvents must be 'http' or 'httpApi', not '${kind}'`);
    }
    for (const fn of Object.values(service.functions ?? {})) {
      fn.events = (fn.events ?? []).map((event) =>
        event.httpApi
          ? { http: { method: restMethod(event.httpApi.method), path: event.httpApi.path } }
          : event,
      );
    }
  }
}

/** HTTP API spells "every method" `*`; a REST API spells it `ANY` (a `*` makes an invalid resource name). */
function restMethod(method) {
  return method === '*' ? 'ANY' : method;
}

module.exports = HttpEvents;
