// The Lambda function's own process: loads the handler from the task root, then runs one invocation per message.
// Forked by init.mjs, which owns the timeout (it kills this process) and the protocol with LocalStack.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const handlerSpec = process.env._HANDLER ?? '';

/** Errors in the shape the AWS Node runtime reports them. */
function describe(err, fallbackType) {
  if (err instanceof Error) {
    return {
      errorType: err.name || fallbackType,
      errorMessage: err.message,
      trace: String(err.stack ?? '').split('\n'),
    };
  }
  return { errorType: fallbackType, errorMessage: String(err), trace: [] };
}

/** `dir/file.export` (as on Lambda): the module file under the task root and the export path. */
async function loadHandler() {
  const lastSlash = handlerSpec.lastIndexOf('/');
  const dot = handlerSpec.indexOf('.', lastSlash + 1);
  if (dot < 0)
    throw Object.assign(new Error(`Bad handler ${handlerSpec}`), { name: 'Runtime.MalformedHandlerName' });
  const modulePath = handlerSpec.slice(0, dot);
  const exportPath = handlerSpec.slice(dot + 1).split('.');
  const base = path.resolve(taskRoot, modulePath);
  const file = ['.mjs', '.js', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${modulePath}'`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  let target = await import(pathToFileURL(file).href);
  for (const key of exportPath) target = target?.[key];
  if (typeof target !== 'function') {
    throw Object.assign(new Error(`${handlerSpec} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return target;
}

function contextFor(msg) {
  const deadline = msg.deadlineMs;
  return {
    awsRequestId: msg.requestId,
    invokedFunctionArn: msg.functionArn,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function run(handler, msg) {
  process.env._X_AMZN_TRACE_ID = msg.traceId ?? '';
  const event = msg.payload === '' ? {} : JSON.parse(msg.payload);
  const context = contextFor(msg);
  // Callback-style handlers (three parameters) answer through the callback; async ones through their promise.
  if (handler.length >= 3) {
    return await new Promise((resolve, reject) => {
      const maybe = handler(event, context, (err, value) => (err ? reject(err) : resolve(value)));
      if (maybe && typeof maybe.then === 'function') maybe.then(resolve, reject);
    });
  }
  return await handler(event, context);
}

let current = null;
process.on('uncaughtException', (err) => {
  process.send?.({ type: 'error', requestId: current, error: describe(err, 'Runtime.UncaughtException') });
  process.exitCode = 1;
  setImmediate(() => process.exit(1));
});
process.on('unhandledRejection', (reason) => {
  process.send?.({
    type: 'error',
    requestId: current,
    error: describe(reason, 'Runtime.UnhandledPromiseRejection'),
  });
  setImmediate(() => process.exit(1));
});

// The runtime-init process went away (killed with LocalStack): nothing can reach this process any more.
process.on('disconnect', () => process.exit(0));

let handler;
try {
  handler = await loadHandler();
  process.send({ type: 'ready' });
} catch (err) {
  process.send({ type: 'init-error', error: describe(err, 'Runtime.ImportModuleError') });
  setImmediate(() => process.exit(1));
}

process.on('message', async (msg) => {
  if (msg?.type !== 'invoke' || !handler) return;
  current = msg.requestId;
  try {
    const value = await run(handler, msg);
    process.send({ type: 'response', requestId: msg.requestId, body: JSON.stringify(value ?? null) });
  } catch (err) {
    process.send({ type: 'error', requestId: msg.requestId, error: describe(err, 'Error') });
  } finally {
    current = null;
  }
});
