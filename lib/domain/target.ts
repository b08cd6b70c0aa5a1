// HTTP targets of task types: {{param}} templates, their validation, and rendering a call for one job.
//
// Placeholders are `{{name}}`. In the URL each value is percent-encoded, so a value cannot add
// path segments or change the host; headers take values verbatim (printable Latin-1 only); a string body
// takes values verbatim, a JSON body takes them into its string leaves and is sent as JSON.
import { z } from 'zod';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** A target that cannot be rendered or would leave the allowed hosts. */
export class TargetError extends Error {
  override readonly name = 'TargetError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export type TemplateParams = Readonly<Record<string, string | number>>;

// Printable ASCII and printable Latin-1: what every HTTP stack sends as a header value unchanged.
const HEADER_VALUE_BAD = /[^\x20-\x7E\xA0-\xFF]/;

/** Why a string cannot be (part of) a header value, if it cannot: control characters, or beyond U+00FF. */
export function headerValueProblem(value: string): string | undefined {
  const bad = HEADER_VALUE_BAD.exec(value)?.[0];
  if (bad === undefined) return undefined;
  const code = bad.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code < 0xa0)
    ? 'goes into a header: control characters (NUL, tab, CR, LF, DEL, ...) are not allowed'
    : 'goes into a header: only Latin-1 characters (up to U+00FF) are allowed';
}

/** Names of the params some header template of `target` takes. */
export function headerParamNames(target: { headers: Record<string, string> }): Set<string> {
  return new Set(Object.values(target.headers).flatMap(placeholdersIn));
}

/** A problem with a template's placeholder syntax, if any. */
export function templateProblem(template: string): string | undefined {
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    return 'Malformed placeholder: expected {{name}} with name made of letters, digits and _';
  }
  return undefined;
}

export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
}

/** Fills every placeholder; throws TargetError naming the first missing param. */
export function fillTemplate(
  template: string,
  params: TemplateParams,
  field: string,
  encode: (value: string) => string = (value) => value,
): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TargetError(`Missing template param "${name}"`, field);
    return encode(String(value));
  });
}

const TemplateSchema = z.string().superRefine((template, ctx) => {
  const problem = templateProblem(template);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const TargetSchema = z
  .strictObject({
    method: z.enum(HTTP_METHODS),
    url: TemplateSchema,
    headers: z
      .record(
        z.string().regex(HEADER_NAME, 'Invalid header name'),
        TemplateSchema.refine((value) => !/[\r\n]/.test(value), 'Header values cannot contain line breaks'),
      )
      .default({}),
    body: z.json().optional(),
  })
  .superRefine((target, ctx) => {
    if (target.body !== undefined && target.method === 'GET') {
      ctx.addIssue({ code: 'custom', path: ['body'], message: 'A GET target cannot have a body' });
    }
    for (const text of stringsIn(target.body)) {
      const problem = templateProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', path: ['body'], message: problem });
    }
  });

export type Target = z.output<typeof TargetSchema>;
type Json = Exclude<Target['body'], undefined>;

function stringsIn(value: Json | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

// Two different fillings reveal whether any placeholder reaches the scheme, host or port.
const SAMPLE_A = 'a0';
const SAMPLE_B = 'b1';

/** The `host` (name and port) a URL template always renders to, or a reason it has none. */
export function staticHostOf(template: string): { host: string; hostname: string } | { problem: string } {
  const render = (sample: string): URL | undefined => {
    const text = template.replace(PLACEHOLDER, sample);
    return URL.canParse(text) ? new URL(text) : undefined;
  };
  const a = render(SAMPLE_A);
  const b = render(SAMPLE_B);
  if (!a || !b) return { problem: `URL template "${template}" does not render to a valid URL` };
  if (a.protocol !== 'http:' && a.protocol !== 'https:') return { problem: 'URL must use http or https' };
  if (a.host !== b.host || a.protocol !== b.protocol || a.username || a.password) {
    return { problem: 'Placeholders cannot be part of the URL scheme, credentials, host or port' };
  }
  return { host: a.host, hostname: a.hostname };
}

export interface RenderedTarget {
  method: (typeof HTTP_METHODS)[number];
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * The HTTP call for one job. Refuses (TargetError) when a param is missing, when the rendered URL
 * is not on an allowed host, or when a filled-in param changed the host the template names.
 */
export function renderTarget(
  task: { target: Target },
  params: TemplateParams,
  ctx: { allowedHosts: readonly string[] },
): RenderedTarget {
  const { target } = task;
  const expected = staticHostOf(target.url);
  if ('problem' in expected) throw new TargetError(expected.problem, 'url');
  const text = fillTemplate(target.url, params, 'url', encodeUrlParam);
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url) throw new TargetError('Rendered URL is not valid', 'url');
  if (url.host !== expected.host)
    throw new TargetError(`A param changed the target host to "${url.host}"`, 'url');
  if (!ctx.allowedHosts.includes(url.hostname)) {
    throw new TargetError(`Host "${url.hostname}" is not in allowedHosts`, 'url');
  }

  const headers: Record<string, string> = {};
  for (const [name, template] of Object.entries(target.headers)) {
    const value = fillTemplate(template, params, `headers.${name}`);
    // Caught here, the job fails for good at once; fetch would throw it as a (retried) network error.
    const problem = headerValueProblem(value);
    if (problem) throw new TargetError(`A param ${problem}`, `headers.${name}`);
    headers[name] = value;
  }
  const rendered: RenderedTarget = { method: target.method, url: url.toString(), headers };
  if (typeof target.body === 'string') {
    rendered.body = fillTemplate(target.body, params, 'body');
  } else if (target.body !== undefined) {
    rendered.body = JSON.stringify(fillJson(target.body, params));
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  return rendered;
}

function encodeUrlParam(value: string): string {
  // URL parsers resolve "." and ".." segments (even percent-encoded), which would move the path.
  if (value === '.' || value === '..') throw new TargetError(`URL param "${value}" is not allowed`, 'url');
  try {
    return encodeURIComponent(value);
  } catch {
    // URIError: a lone surrogate has no UTF-8 form.
    throw new TargetError('A URL param is not well-formed Unicode', 'url');
  }
}

function fillJson(value: Json, params: TemplateParams): Json {
  if (typeof value === 'string') return fillTemplate(value, params, 'body');
  if (Array.isArray(value)) return value.map((item) => fillJson(item, params));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillJson(item, params)]));
  }
  return value;
}
