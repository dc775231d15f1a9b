// sendoff's Node.js runtime: the process inside a `nodejs*.x` execution environment.
//
// Started as `node --max-old-space-size=N node_runtime.mjs`, never imported by sendoff.
// It follows the programming model of AWS's Node.js runtime:
//   * handlers are loaded like AWS does: `<file>.js` (CommonJS, or ES module when the
//     nearest package.json says "type": "module"), `.mjs`, `.cjs`, or a package name;
//   * callback handlers `(event, context, callback)`, with
//     `context.callbackWaitsForEmptyEventLoop` (a successful callback result is posted
//     once the event loop is empty, unless the flag is false), `context.succeed/fail/done`
//     and `getRemainingTimeInMillis()`; async / promise handlers post as soon as they
//     settle; the first completion wins;
//   * errors are posted as {errorType, errorMessage, trace}; console output is written as
//     "<ISO time>\t<request id>\t<LEVEL>\t<message>" with newlines turned into "\r";
//   * the handler is called as a method of a `Runtime` object from
//     `handleOnceNonStreaming` / `handleOnceStreaming`, and the traces it reports name the
//     code at /var/task and this file as /var/runtime/index.mjs, as AWS's do, wherever
//     sendoff really keeps them.
// Console lines are written synchronously to fd 1 so everything a handler logged is in
// the pipe before its response is posted (process.stdout on a pipe is asynchronous).

import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import util from "node:util";

const require = createRequire(import.meta.url);
const RUNTIME_API = process.env.AWS_LAMBDA_RUNTIME_API ?? "127.0.0.1:9001";
const HOST = RUNTIME_API.slice(0, RUNTIME_API.lastIndexOf(":"));
const PORT = Number(RUNTIME_API.slice(RUNTIME_API.lastIndexOf(":") + 1));
const BASE = "/2018-06-01/runtime";
const REQUEST_ID = Symbol.for("aws.lambda.runtime.requestId");
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// ---- console -------------------------------------------------------------------------

let streamsTouched = false;
for (const name of ["stdout", "stderr"]) {
  const descriptor = Object.getOwnPropertyDescriptor(process, name);
  if (descriptor && descriptor.get) {
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: descriptor.enumerable,
      get() {
        streamsTouched = true;
        return descriptor.get.call(process);
      },
    });
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeOut(text) {
  const bytes = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += fs.writeSync(1, bytes, offset);
    } catch (error) {
      if (error.code !== "EAGAIN") return;
      Atomics.wait(pause, 0, 0, 1); // the pipe is full: let sendoff read it
    }
  }
}

function logLine(level, args) {
  const line = `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level}\t${util.format(...args)}`;
  writeOut(line.replace(/\n/g, "\r") + "\n");
}

console.trace = (...args) => logLine("TRACE", args);
console.debug = (...args) => logLine("DEBUG", args);
console.info = (...args) => logLine("INFO", args);
console.log = console.info;
console.warn = (...args) => logLine("WARN", args);
console.error = (...args) => logLine("ERROR", args);
console.fatal = (...args) => logLine("FATAL", args);

async function flushStreams() {
  if (!streamsTouched) return;
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.writableLength > 0) {
      await new Promise((resolve) => stream.once("drain", resolve));
    }
  }
}

// ---- errors --------------------------------------------------------------------------

function runtimeError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

function isErrorLike(value) {
  return (
    value &&
    typeof value.name === "string" &&
    typeof value.message === "string" &&
    typeof value.stack === "string"
  );
}

// ---- AWS's paths in traces ------------------------------------------------------------

const AWS_TASK_ROOT = "/var/task";
const AWS_RUNTIME_FILE = "/var/runtime/index.mjs";
// Where AWS's runtime calls the handler (nodejs20.x traces recorded in the wild).
const AWS_HANDLE_ONCE = { handleOnceNonStreaming: "1173:29", handleOnceStreaming: "1348:26" };
const OWN_URL = import.meta.url;
const OWN_PATH = fileURLToPath(import.meta.url);
let pathPairs = null;

function awsPathPairs() {
  if (pathPairs) return pathPairs;
  const roots = new Set();
  for (const root of [process.env.LAMBDA_TASK_ROOT ?? process.cwd(), process.cwd()]) {
    roots.add(path.resolve(root));
    try {
      roots.add(fs.realpathSync(root));
    } catch {}
  }
  const pairs = [
    [OWN_URL, `file://${AWS_RUNTIME_FILE}`],
    [OWN_PATH, AWS_RUNTIME_FILE],
  ];
  for (const root of roots) {
    if (root === AWS_TASK_ROOT || root.length < 2) continue;
    pairs.push([`${pathToFileURL(root).href}/`, `file://${AWS_TASK_ROOT}/`]);
    pairs.push([`${root}/`, `${AWS_TASK_ROOT}/`]);
  }
  pathPairs = pairs.sort((a, b) => b[0].length - a[0].length);
  return pathPairs;
}

function awsPaths(text) {
  if (typeof text !== "string") return text;
  for (const [from, to] of awsPathPairs()) text = text.split(from).join(to);
  return text;
}

// A stack as AWS's runtime shows it: AWS's paths, ending at the runtime frame that called
// the handler (AWS's awaits it from its loop: nothing of the loop shows below it).
function awsTrace(stack) {
  const out = [];
  for (const line of String(stack).split("\n")) {
    const frame = line.match(/^(\s+at (?:async )?Runtime\.(handleOnce\w+)) \(/);
    if (frame && AWS_HANDLE_ONCE[frame[2]] && line.includes(OWN_URL)) {
      out.push(`${frame[1]} (file://${AWS_RUNTIME_FILE}:${AWS_HANDLE_ONCE[frame[2]]})`);
      break;
    }
    out.push(awsPaths(line));
  }
  return out;
}

function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: awsPaths(error.message),
        trace: awsTrace(error.stack),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
    };
  }
}

function formatted(error) {
  const withProperties = (_key, value) => {
    if (!(value instanceof Error)) return value;
    const shown = { errorType: value.name, errorMessage: awsPaths(value.message), code: value.code, ...value };
    if (typeof value.stack === "string") shown.stack = awsTrace(value.stack);
    return shown;
  };
  try {
    return "\t" + JSON.stringify(error, withProperties);
  } catch {
    return "\t" + JSON.stringify(toRapidResponse(error));
  }
}

function logError(label, error) {
  console.error(label, formatted(error instanceof Error ? error : new Error(error)));
}

// ---- Runtime API client --------------------------------------------------------------

function call(method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    const request = http.request(
      {
        host: HOST,
        port: PORT,
        method,
        path: urlPath,
        agent,
        headers: { ...headers, "Content-Length": payload.length },
      },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

function gone() {
  process.exit(0); // sendoff closed the Runtime API: this environment is finished
}

async function postResponse(id, result) {
  let body;
  try {
    body = Buffer.isBuffer(result) ? result : JSON.stringify(result === undefined ? null : result);
  } catch (error) {
    return postError(id, runtimeError("Runtime.MarshalError", `Unable to stringify response body: ${error}`));
  }
  await flushStreams();
  await call("POST", `${BASE}/invocation/${encodeURIComponent(id)}/response`, body).catch(gone);
}

async function postError(id, error) {
  const response = toRapidResponse(error);
  await flushStreams();
  await call("POST", `${BASE}/invocation/${encodeURIComponent(id)}/error`, JSON.stringify(response), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": String(response.errorType),
  }).catch(gone);
}

async function postInitError(error) {
  const response = toRapidResponse(error);
  await call("POST", `${BASE}/init/error`, JSON.stringify(response), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": String(response.errorType),
  }).catch(gone);
}

// ---- loading the handler -------------------------------------------------------------

function isFile(candidate) {
  try {
    return fs.statSync(candidate).isFile();
  } catch {
    return false;
  }
}

function packageTypeIsModule(folder) {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    if (dir.endsWith(`${path.sep}node_modules`)) return false;
    const manifest = path.join(dir, "package.json");
    if (isFile(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, "utf8"))?.type === "module";
      } catch {
        return false;
      }
    }
    if (dir === path.dirname(dir)) return false;
  }
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  if (isFile(base)) return require(base);
  const esm = packageTypeIsModule(path.dirname(base));
  if (!esm && isFile(`${base}.js`)) return require(`${base}.js`);
  if (esm && isFile(`${base}.js`)) return import(pathToFileURL(`${base}.js`).href);
  if (isFile(`${base}.mjs`)) return import(pathToFileURL(`${base}.mjs`).href);
  if (isFile(`${base}.cjs`)) return require(`${base}.cjs`);
  const resolved = require.resolve(moduleName, {
    paths: [appRoot, path.resolve(appRoot, moduleRoot)],
  });
  return require(resolved);
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes("..")) {
    throw runtimeError(
      "Runtime.MalformedHandlerName",
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match) throw runtimeError("Runtime.MalformedHandlerName", "Bad handler");
  const [, moduleName, handlerPath] = match;
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw runtimeError("Runtime.UserCodeSyntaxError", String(error));
    }
    if (error?.code === "MODULE_NOT_FOUND" || error?.code === "ERR_MODULE_NOT_FOUND") {
      throw runtimeError("Runtime.ImportModuleError", String(error));
    }
    throw error;
  }
  const handler = handlerPath.split(".").reduce((object, key) => object && object[key], app);
  if (!handler) {
    throw runtimeError("Runtime.HandlerNotFound", `${fullHandler} is undefined or not exported`);
  }
  if (typeof handler !== "function") {
    throw runtimeError("Runtime.HandlerNotFound", `${fullHandler} is not a function`);
  }
  return handler;
}

globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = "response";
    return handler;
  },
  HttpResponseStream: {
    from(stream) {
      return stream; // buffered: the metadata prelude is not sent
    },
  },
};

// ---- invoking ------------------------------------------------------------------------

let currentId = null;
let beforeExitAction = null;

process.on("beforeExit", () => {
  const action = beforeExitAction;
  beforeExitAction = null;
  if (action) action();
});

process.on("uncaughtException", (error) => {
  logError("Uncaught Exception", error);
  const post = currentId ? postError(currentId, error) : postInitError(error);
  post.finally(() => process.exit(129));
});

process.on("unhandledRejection", (reason) => {
  const error = runtimeError("Runtime.UnhandledPromiseRejection", String(reason));
  error.reason = reason;
  logError("Unhandled Promise Rejection", error);
  const post = currentId ? postError(currentId, error) : postInitError(error);
  post.finally(() => process.exit(128));
});

function parseJsonHeader(value) {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

// The handler is called as a method of a Runtime, so its frames read `Runtime.handler`
// (or `Runtime.exports.handler`) above `Runtime.handleOnceNonStreaming`, as on AWS.
class Runtime {
  constructor(handler) {
    this.handler = handler;
  }

  handleOnceNonStreaming(event, context, callback) {
    return this.handler(event, context, callback);
  }

  handleOnceStreaming(event, stream, context) {
    return this.handler(event, stream, context);
  }
}

function invokeOnce(runtime, headers, body) {
  const handler = runtime.handler;
  return new Promise((scheduleNext) => {
    const id = headers["lambda-runtime-aws-request-id"];
    const deadline = Number(headers["lambda-runtime-deadline-ms"]);
    currentId = id;
    globalThis[REQUEST_ID] = id;
    if (headers["lambda-runtime-trace-id"]) {
      process.env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"];
    } else {
      delete process.env._X_AMZN_TRACE_ID;
    }

    let waitForEmptyEventLoop = true;
    let reported = false;
    let called = false;
    const finish = (post) => {
      if (reported) return;
      reported = true;
      beforeExitAction = null;
      post().then(() => {
        currentId = null;
        scheduleNext();
      });
    };
    const complete = (result) => finish(() => postResponse(id, result));
    const fail = (error) =>
      finish(() => {
        logError("Invoke Error", error);
        return postError(id, error);
      });
    const once = (fn) => (...args) => {
      if (called) return;
      called = true;
      fn(...args);
    };

    const callback = once((error, result) => {
      if (error !== undefined && error !== null) {
        fail(error);
      } else if (!waitForEmptyEventLoop) {
        complete(result);
      } else {
        beforeExitAction = () => setImmediate(() => complete(result));
      }
    });
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
      succeed: once((result) => complete(result)),
      fail: once((error) => fail(error === undefined || error === null ? "handled" : error)),
      done: once((error, result) =>
        error !== undefined && error !== null ? fail(error) : complete(result),
      ),
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: parseJsonHeader(headers["lambda-runtime-client-context"]),
      identity: parseJsonHeader(headers["lambda-runtime-cognito-identity"]),
      invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
      awsRequestId: id,
      getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    };

    const isAsync = handler.constructor?.name === "AsyncFunction";
    beforeExitAction = () => {
      // The loop emptied and the handler never completed.
      if (isAsync) {
        fail(runtimeError("Runtime.NodeJsExit", "Error: Runtime exited without providing a reason"));
      } else {
        complete(null);
      }
    };

    try {
      const event = JSON.parse(body.toString("utf8"));
      if (handler[STREAMING] === "response") {
        const chunks = [];
        const stream = new Writable({
          write(chunk, _encoding, done) {
            chunks.push(Buffer.from(chunk));
            done();
          },
        });
        stream.setContentType = () => {};
        const finished = new Promise((resolve) => stream.on("finish", resolve));
        Promise.resolve(runtime.handleOnceStreaming(event, stream, context)).then(async () => {
          if (!stream.writableEnded) {
            context.fail(runtimeError("Runtime.InvalidStreamingOperation", "Response stream is not finished."));
            return;
          }
          await finished;
          context.succeed(Buffer.concat(chunks));
        }, context.fail);
        return;
      }
      const result = runtime.handleOnceNonStreaming(event, context, callback);
      if (result && typeof result.then === "function") {
        result.then(context.succeed, context.fail);
      }
    } catch (error) {
      callback(error);
    }
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), process.env._HANDLER ?? "");
  } catch (error) {
    logError("Init Error", error);
    await postInitError(error);
    process.exit(1);
  }
  const runtime = new Runtime(handler);
  for (;;) {
    let next;
    try {
      next = await call("GET", `${BASE}/invocation/next`);
    } catch {
      gone();
    }
    if (next.status !== 200) process.exit(1);
    await invokeOnce(runtime, next.headers, next.body);
  }
}

main();
