// Binds the HTTP port before anything else starts; requests that arrive early wait for the app.
/** Where to listen. */
export interface ListenOptions {
  /** Interface to bind, such as 127.0.0.1 or 0.0.0.0. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
}

/** A bound port whose requests are answered once `serve` hands it the app. */
export interface Listener {
  /** The port bound (the one picked when 0 was asked for). */
  readonly port: number;
  /** The address to open in a browser: a wildcard interface is shown as the loopback one. */
  readonly url: string;
  /** Starts answering with `handler`, the requests that were waiting included. */
  serve(handler: Deno.ServeHandler): void;
  /** Stops accepting and finishes the requests in flight; those still waiting for the app get 503. */
  shutdown(): Promise<void>;
}

/** `host:port`, with an IPv6 host in brackets. */
function address(hostname: string, port: number): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/** The URL of a listening address, for people: `http://127.0.0.1:8080` for 0.0.0.0:8080. */
export function listenUrl(hostname: string, port: number): string {
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "::1" : hostname;
  return `http://${address(host, port)}`;
}

/** Why a bind failed, in words that say what to do. */
function bindProblem(error: unknown): string {
  if (error instanceof Deno.errors.AddrInUse) {
    return "the address is already in use; stop the process that holds it, or set PORT (or HOST)";
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return "this machine has no such interface; set HOST to one of its addresses, or 0.0.0.0";
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return "permission denied (ports below 1024 need privileges); set PORT to 1024 or above";
  }
  return (error as Error).message;
}

/**
 * Binds `hostname:port` at once, so that a port in use is reported before the database or Kafka
 * is touched. Throws an Error naming the address when it cannot.
 */
export function bindListener(options: ListenOptions): Listener {
  const { hostname, port } = options;
  const app = Promise.withResolvers<Deno.ServeHandler>();
  // Rejected only by a shutdown before `serve`; a rejection nobody awaits is not an error here.
  app.promise.catch(() => {});
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      onListen: () => {},
      // Reached only by requests that were waiting when start-up failed.
      onError: () => new Response(null, { status: 503 }),
    }, async (request, info) => (await app.promise)(request, info));
  } catch (error) {
    throw new Error(`Cannot listen on ${address(hostname, port)}: ${bindProblem(error)}`, {
      cause: error,
    });
  }
  return {
    port: server.addr.port,
    url: listenUrl(hostname, server.addr.port),
    serve: (handler) => app.resolve(handler),
    async shutdown() {
      app.reject(new Error("The service stopped before it was ready"));
      await server.shutdown();
    },
  };
}
