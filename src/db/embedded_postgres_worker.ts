// Worker running PGlite behind a PostgreSQL socket, keeping its work off the main event loop.
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/** What the main thread asks of the worker. */
export type EmbeddedPostgresRequest =
  | { type: "create"; dataDir: string }
  | { type: "start"; dataDir: string; host: string; port: number }
  | { type: "stop" };

/** What the worker answers; "error" may answer any request. */
export type EmbeddedPostgresReply =
  | { type: "listening"; host: string; port: number }
  | { type: "stopped" }
  | { type: "error"; message: string };

// PGlite's default of 128MB of shared buffers costs about 100 MiB more resident memory than 16MB,
// which inserts 10,000 rows just as fast.
const START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<EmbeddedPostgresRequest>) => void) | null;
  postMessage(reply: EmbeddedPostgresReply): void;
};

let db: PGlite | undefined;
let server: PGLiteSocketServer | undefined;

async function create(dataDir: string): Promise<EmbeddedPostgresReply> {
  await (await PGlite.create({ dataDir, startParams: START_PARAMS })).close();
  return { type: "stopped" };
}

async function start(dataDir: string, host: string, port: number): Promise<EmbeddedPostgresReply> {
  db = await PGlite.create({ dataDir, startParams: START_PARAMS });
  // Every socket connection shares PGlite's one session, so a second connection would see the
  // first one's transaction: accept one at a time (the client pool must hold a single connection).
  server = new PGLiteSocketServer({ db, host, port, maxConnections: 1 });
  let bound = port;
  server.addEventListener("listening", (event) => {
    bound = (event as CustomEvent<{ port: number }>).detail.port;
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  return { type: "listening", host, port: bound };
}

async function stop(): Promise<EmbeddedPostgresReply> {
  await server?.stop();
  // close() shuts PostgreSQL down cleanly; after a kill the next start has to recover from the WAL.
  if (db && !db.closed) await db.close();
  return { type: "stopped" };
}

scope.onmessage = async (event) => {
  const request = event.data;
  try {
    scope.postMessage(
      request.type === "create"
        ? await create(request.dataDir)
        : request.type === "start"
        ? await start(request.dataDir, request.host, request.port)
        : await stop(),
    );
  } catch (error) {
    scope.postMessage({
      type: "error",
      message: error instanceof Error ? error.message : String(error),
    });
  }
};
