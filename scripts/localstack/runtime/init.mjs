// The runtime-init role of a Lambda execution environment, for LocalStack's host executor (no container).
// Receives `POST /invoke` from LocalStack, runs it in the handler process (handler-process.mjs), enforces the
// function's timeout by killing that process (the next invocation starts a fresh one: a cold start, as on
// Lambda after a timeout), and reports ready / logs / response / error to LocalStack's executor endpoint.
// The protocol is the one LocalStack's Go init speaks (lambda-runtime-init, cmd/localstack/custom_interop.go).
import { fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;
const upstream = env.LOCALSTACK_RUNTIME_ENDPOINT;
const runtimeId = env.LOCALSTACK_RUNTIME_ID;
const port = Number(env.STAGGER_RUNTIME_PORT);
const host = env.STAGGER_RUNTIME_HOST ?? '127.0.0.1';
const timeoutS = Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? '3');
const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128');
const version = env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST';
const handlerProgram = path.join(path.dirname(fileURLToPath(import.meta.url)), 'handler-process.mjs');

if (!upstream || !runtimeId || !Number.isInteger(port)) {
  console.error(
    'init: LOCALSTACK_RUNTIME_ENDPOINT, LOCALSTACK_RUNTIME_ID and STAGGER_RUNTIME_PORT are required',
  );
  process.exit(2);
}

function say(line) {
  process.stdout.write(`${line}\n`);
}

async function post(pathname, body) {
  try {
    await fetch(`${upstream}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  } catch (err) {
    say(`init: report to ${pathname} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** One handler process at a time; `ready` resolves when it has loaded the handler (or rejects with its init error). */
let child = null;
let childReady = null;
let invocation = null;

function startChild() {
  const proc = fork(handlerProgram, [], {
    cwd: env.LAMBDA_TASK_ROOT || process.cwd(),
    env,
    // Lambda's memory setting as the heap ceiling: a function that outgrows it fails here as it would there.
    execArgv: [`--max-old-space-size=${Math.max(64, memoryMb)}`],
    silent: true,
  });
  const onOutput = (chunk) => {
    const text = chunk.toString('utf8');
    process.stdout.write(text);
    if (invocation) invocation.logs += text;
  };
  proc.stdout.on('data', onOutput);
  proc.stderr.on('data', onOutput);
  let settleReady;
  childReady = new Promise((resolve, reject) => {
    settleReady = { resolve, reject };
  });
  childReady.catch(() => undefined);
  proc.on('message', (msg) => {
    if (msg.type === 'ready') settleReady.resolve();
    else if (msg.type === 'init-error') settleReady.reject(msg.error);
    else if (
      (msg.type === 'response' || msg.type === 'error') &&
      invocation &&
      msg.requestId === invocation.id
    ) {
      finish(msg.type === 'response' ? { body: msg.body } : { error: msg.error });
    }
  });
  proc.on('exit', (code, signal) => {
    if (child === proc) child = null;
    settleReady.reject({
      errorType: 'Runtime.ExitError',
      errorMessage: `Runtime exited during init: ${code ?? signal}`,
    });
    if (invocation && invocation.proc === proc) {
      finish({
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${invocation.id} Error: Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`,
        },
      });
    }
  });
  child = proc;
  return childReady;
}

function finish(outcome) {
  const inv = invocation;
  if (!inv || inv.done) return;
  inv.done = true;
  clearTimeout(inv.timer);
  const ms = Date.now() - inv.started;
  // Output written just before the answer may still be in the pipe: give it a moment, as Lambda's log flush does.
  setTimeout(async () => {
    const report = `END RequestId: ${inv.id}\nREPORT RequestId: ${inv.id}\tDuration: ${ms} ms\tMemory Size: ${memoryMb} MB\n`;
    say(report.trimEnd());
    await post(`/invocations/${inv.id}/logs`, { logs: inv.logs + report });
    invocation = null;
    if (outcome.error) await post(`/invocations/${inv.id}/error`, outcome.error);
    else await post(`/invocations/${inv.id}/response`, outcome.body);
  }, 20);
}

function timeOut(inv) {
  if (invocation !== inv || inv.done) return;
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const proc = child;
  child = null;
  inv.proc = null;
  proc?.kill('SIGKILL');
  finish({
    error: {
      errorType: 'Sandbox.Timedout',
      errorMessage: `${stamp} ${inv.id} Task timed out after ${timeoutS.toFixed(2)} seconds`,
    },
  });
}

async function invoke(request) {
  const inv = {
    id: request['invoke-id'],
    started: Date.now(),
    logs: '',
    done: false,
    proc: null,
    timer: null,
  };
  invocation = inv;
  const deadlineMs = inv.started + timeoutS * 1000;
  // The timeout covers a re-initialisation too (Lambda counts a post-timeout init in the invocation).
  inv.timer = setTimeout(() => timeOut(inv), timeoutS * 1000);
  const header = `START RequestId: ${inv.id} Version: ${version}\n`;
  say(header.trimEnd());
  inv.logs += header;
  try {
    await (child ? childReady : startChild());
  } catch (error) {
    finish({ error });
    return;
  }
  if (inv.done) return;
  inv.proc = child;
  child.send({
    type: 'invoke',
    requestId: inv.id,
    functionArn: request['invoked-function-arn'],
    payload: request.payload ?? '',
    traceId: request['trace-id'],
    deadlineMs,
  });
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/invoke') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let request;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end('bad invoke request');
      return;
    }
    if (invocation) {
      // LocalStack sends one invocation at a time per environment; a second one is its bug, not ours to queue.
      res.writeHead(409).end('busy');
      return;
    }
    res.writeHead(200).end('OK');
    void invoke(request);
  });
});

function shutdown() {
  child?.kill('SIGKILL');
  server.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// A runtime never outlives the LocalStack that started it (it may be killed without a chance to stop us).
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) shutdown();
}, 1000).unref();

server.listen(port, host, async () => {
  try {
    await startChild();
    say(`init: ready on ${host}:${port} (node ${process.version})`);
    await post(`/status/${runtimeId}/ready`, {});
  } catch (error) {
    say(`init: handler failed to load: ${error?.errorMessage ?? String(error)}`);
    await post(`/status/${runtimeId}/error`, error);
    server.close();
    process.exit(1);
  }
});
