// GET /cli/submit.mjs: the submit CLI built from this service's own source (`deno task build:cli`),
// one ES module that a CI job downloads and runs with Node.js 18+ or Deno, nothing to install.
import { Hono } from "hono";
import { etag } from "hono/etag";
import { ApiError, ApiErrorCode } from "./errors.ts";

/** Where the built CLI is. */
export interface CliRoutesDeps {
  /** The bundle written by `deno task build:cli` (CLI_BUNDLE_PATH). */
  bundlePath: string;
}

/** Creates GET /submit.mjs (mounted at /cli); needs no API key, as the docs do not. */
export function createCliRoutes(deps: CliRoutesDeps) {
  // Read on first request and kept: the file of the version this process started with, and a
  // service nobody downloads the CLI from never reads it. A missing file is looked for again.
  let bundle: Promise<Uint8Array<ArrayBuffer>> | undefined;
  const app = new Hono();
  // ETag and If-None-Match: a job that keeps the file between runs gets 304 while it is current.
  app.use("/submit.mjs", etag());
  app.get("/submit.mjs", async (c) => {
    bundle ??= Deno.readFile(deps.bundlePath);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await bundle;
    } catch (error) {
      bundle = undefined;
      throw new ApiError(
        503,
        ApiErrorCode.CLI_NOT_BUILT,
        "The submit CLI is not built on this server: run `deno task build:cli` where the " +
          "service runs (`deno task start` and the image build it)",
        { cause: error },
      );
    }
    return c.body(bytes, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-cache",
    });
  });
  return app;
}
