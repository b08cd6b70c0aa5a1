// Upstash REST wire format: parses request bodies and turns Redis replies into Upstash-shaped JSON.

/** A reply as ioredis hands it back with `callBuffer`, `protocol: 2` and `stringNumbers: true`. */
export type RedisReply = Buffer | string | number | null | Error | RedisReply[];

/** An integer reply kept as its digits, so 64-bit values survive JSON exactly as Upstash sends them. */
export class RawInteger {
  constructor(readonly digits: string) {}
}

export type JsonValue =
  null | boolean | number | string | RawInteger | JsonValue[] | { [key: string]: JsonValue | undefined };

/** One command's outcome inside `/pipeline` and `/multi-exec` answers, and the body of `POST /`. */
export type Outcome = { result: JsonValue } | { error: string };

/** A request the bridge refuses before Redis sees it; becomes HTTP `status` with `{"error": message}`. */
export class BridgeRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BridgeRequestError';
  }
}

const OK = Buffer.from('OK');

/**
 * Encodes a reply the way Upstash does. With base64 on, every string at any depth is base64 of its raw
 * bytes, except a top-level `OK`: the client keeps a top-level "OK" as is but base64-decodes every string
 * inside arrays, so a nested "OK" must be encoded too. Integers stay numbers, nil stays null.
 */
export function encodeReply(reply: RedisReply, base64: boolean, topLevel = true): JsonValue {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'number') return reply;
  if (typeof reply === 'string') return /^-?\d+$/.test(reply) ? new RawInteger(reply) : reply;
  if (Buffer.isBuffer(reply)) {
    if (!base64) return reply.toString('utf8');
    return topLevel && reply.equals(OK) ? 'OK' : reply.toString('base64');
  }
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64, false));
  // An error nested in an array (a Lua table holding redis.error_reply): sent as its text.
  return encodeReply(Buffer.from(reply.message), base64, topLevel);
}

/** JSON.stringify that also writes RawInteger digits unquoted (Node 20 has no JSON.rawJSON). */
export function toJson(value: JsonValue): string {
  if (value instanceof RawInteger) return value.digits;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value)
      .filter((entry): entry is [string, JsonValue] => entry[1] !== undefined)
      .map(([key, v]) => `${JSON.stringify(key)}:${toJson(v)}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value);
}

export type CommandArgs = [string, ...string[]];

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new BridgeRequestError(400, 'ERR failed to parse request body as JSON');
  }
}

/** Checks one command array: a non-empty list of strings, numbers or booleans (sent to Redis as text). */
export function toCommand(value: unknown, where = 'command'): CommandArgs {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BridgeRequestError(
      400,
      `ERR ${where} must be a non-empty JSON array, e.g. ["SET","key","value"]`,
    );
  }
  const args = value.map((arg, i) => {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'number' || typeof arg === 'boolean') return String(arg);
    throw new BridgeRequestError(400, `ERR ${where} argument ${i} must be a string, number or boolean`);
  });
  return args as CommandArgs;
}

/** Body of `POST /`: `["CMD", ...args]`. */
export function parseCommandBody(body: string): CommandArgs {
  return toCommand(parseJson(body));
}

/** Body of `/pipeline` and `/multi-exec`: `[[...], [...]]`. */
export function parseBatchBody(body: string): CommandArgs[] {
  const value = parseJson(body);
  if (!Array.isArray(value) || value.length === 0) {
    throw new BridgeRequestError(
      400,
      'ERR body must be a non-empty JSON array of commands, e.g. [["SET","k","v"],["GET","k"]]',
    );
  }
  return value.map((command, i) => toCommand(command, `command ${i}`));
}

/**
 * The path form: `/set/foo/bar?EX=100` is SET foo bar EX 100. A non-empty POST body is the last
 * argument, as Upstash documents for values that do not fit in a URL.
 */
export function parsePathCommand(pathname: string, query: URLSearchParams, body: string): CommandArgs {
  let segments: string[];
  try {
    segments = pathname
      .split('/')
      .filter((s) => s.length > 0)
      .map(decodeURIComponent);
  } catch {
    throw new BridgeRequestError(400, 'ERR malformed percent-encoding in the request path');
  }
  for (const [key, value] of query) {
    if (key === '_token') continue;
    segments.push(key);
    if (value !== '') segments.push(value);
  }
  if (body.length > 0) segments.push(body);
  return toCommand(segments);
}
