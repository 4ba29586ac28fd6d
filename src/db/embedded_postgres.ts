// The zero-config database: PGlite in a Worker behind a local socket, for postgres.js unchanged.
import type { EmbeddedPostgresReply, EmbeddedPostgresRequest } from "./embedded_postgres_worker.ts";

/** Options of startEmbeddedPostgres. */
export interface EmbeddedPostgresOptions {
  /** Folder holding the database; created if missing. */
  dataDir: string;
  /** IPv4 address to listen on (postgres.js 3.4.9 cannot parse IPv6 URLs). @default "127.0.0.1" */
  host?: string;
  /** Port the socket listens on; 0 picks a free one. @default 0 */
  port?: number;
  /** Milliseconds to wait for the worker to start or stop. @default 60000 */
  timeoutMs?: number;
}

/** A running embedded PostgreSQL. */
export interface EmbeddedPostgres {
  /** postgres:// URL of the socket, for postgres.js with `max: 1`. */
  readonly url: string;
  /** Closes the socket and PGlite (flushing its data), ends the worker and frees the folder. */
  stop(): Promise<void>;
}

// Inside the data folder; PGlite itself takes no lock, and two writers would corrupt the folder.
const LOCK_FILE_NAME = "embedded_postgres.lock";

/** Starts PGlite on `dataDir` in a Worker, after locking the folder against other processes. */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const { dataDir, host = "127.0.0.1", port = 0, timeoutMs = 60_000 } = options;
  const failure = (action: "start" | "stop", cause: unknown) =>
    new Error(`Cannot ${action} embedded PostgreSQL in "${dataDir}": ${messageOf(cause)}`, {
      cause,
    });

  let lock: Deno.FsFile;
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    lock = await Deno.open(`${dataDir}/${LOCK_FILE_NAME}`, {
      read: true,
      write: true,
      create: true,
    });
  } catch (error) {
    throw failure("start", error);
  }
  // An flock is released by the kernel when its process dies, so a crash never leaves a stale lock.
  if (!(await lock.tryLock(true))) {
    const holder = await readHolder(lock);
    lock.close();
    throw failure(
      "start",
      `the folder is in use by another embedded PostgreSQL${holder ? ` (pid ${holder})` : ""}`,
    );
  }

  let worker: Worker | undefined;
  let address: { host: string; port: number };
  try {
    await lock.truncate(0);
    await lock.write(new TextEncoder().encode(`${Deno.pid}\n`));
    if (!(await exists(`${dataDir}/PG_VERSION`))) {
      // initdb leaves about 350 MiB behind in its worker that only the worker's end gives back, so
      // a new folder is created in one worker and served from a fresh one.
      worker = spawnWorker();
      await exchange(worker, { type: "create", dataDir }, timeoutMs);
      worker.terminate();
    }
    worker = spawnWorker();
    const reply = await exchange(worker, { type: "start", dataDir, host, port }, timeoutMs);
    if (reply.type !== "listening") {
      throw new Error(`unexpected reply "${reply.type}" from the worker`);
    }
    address = reply;
  } catch (error) {
    worker?.terminate();
    await release(lock);
    throw failure("start", error);
  }
  const running = worker;
  const hostname = address.host.includes(":") ? `[${address.host}]` : address.host;

  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${hostname}:${address.port}/postgres`,
    stop() {
      stopping ??= (async () => {
        try {
          await exchange(running, { type: "stop" }, timeoutMs);
        } catch (error) {
          throw failure("stop", error);
        } finally {
          running.terminate();
          await release(lock);
        }
      })();
      return stopping;
    },
  };
}

function spawnWorker(): Worker {
  return new Worker(new URL("./embedded_postgres_worker.ts", import.meta.url).href, {
    type: "module",
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

// Sends one request and waits for its reply; the worker handles one request at a time.
function exchange(
  worker: Worker,
  request: EmbeddedPostgresRequest,
  timeoutMs: number,
): Promise<EmbeddedPostgresReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`no answer to "${request.type}" after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (event: MessageEvent<EmbeddedPostgresReply>) =>
      event.data.type === "error"
        ? finish(new Error(event.data.message))
        : finish(undefined, event.data);
    // An uncaught error in the worker (a module failing to load) comes as an event, not a message.
    const onError = (event: ErrorEvent) => {
      event.preventDefault();
      finish(new Error(event.message));
    };
    function finish(error?: Error, reply?: EmbeddedPostgresReply) {
      clearTimeout(timer);
      worker.removeEventListener("message", onMessage);
      worker.removeEventListener("error", onError);
      if (error) reject(error);
      else resolve(reply!);
    }
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", onError);
    worker.postMessage(request);
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readHolder(lock: Deno.FsFile): Promise<string> {
  const buffer = new Uint8Array(32);
  const read = (await lock.read(buffer)) ?? 0;
  return new TextDecoder().decode(buffer.subarray(0, read)).trim();
}

async function release(lock: Deno.FsFile): Promise<void> {
  await lock.unlock();
  lock.close();
}
