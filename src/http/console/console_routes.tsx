// The /console routes: sign-in, upload, batches and publishing, server-rendered with Hono's JSX.
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import type { BatchReader, Logger } from "../../domain/ports.ts";
import { keyFingerprint, type KeyRing } from "../auth.ts";
import type { BatchAnswerDeps } from "../batch_answer.ts";
import { answerError, describeError } from "../error_mapper.ts";
import { ApiError, ApiErrorCode } from "../errors.ts";
import { CONSOLE_CSS, CONSOLE_ICON } from "./assets.ts";
import { readForm } from "./form_body.ts";
import { createBatchHandlers } from "./batch_pages.tsx";
import { createPublishingHandlers, type PublishingDeps } from "./publishing_page.tsx";
import { checkCsrf, createSessions, CSRF_FIELD, type SessionOptions } from "./session.ts";
import { ErrorPage, SignInPage } from "./sign_in_page.tsx";
import { createUploadHandler } from "./upload_handler.tsx";

/** What the console needs; main.ts builds it from the same parts as the API. */
export interface ConsoleDeps {
  keys: KeyRing;
  sessions: SessionOptions;
  /** How batches are ingested: the same use case, limiter and limits as the API's. */
  batch: BatchAnswerDeps;
  batches: BatchReader;
  publishing: Omit<PublishingDeps, "open" | "readForm">;
  /** Most bytes of a sign-in, sign-out or re-queue form (CONSOLE_FORM_MAX_BYTES). */
  formMaxBytes: number;
}

// Pages come only from here: no script, no frame, no form posted elsewhere, nothing cached.
const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

/** Creates the console, to be mounted at /console. */
export function createConsoleRoutes(deps: ConsoleDeps) {
  const app = new Hono();
  const sessions = createSessions(deps.keys, deps.sessions);
  const open = !deps.keys.enabled;

  app.use(async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });
  // Form posts from another origin are refused (Origin or Sec-Fetch-Site), before any session.
  app.use(csrf());
  app.use(sessions.middleware);

  app.get("/assets/console.css", (c) => c.body(CONSOLE_CSS, 200, { "content-type": "text/css" }));
  app.get(
    "/assets/icon.svg",
    (c) => c.body(CONSOLE_ICON, 200, { "content-type": "image/svg+xml" }),
  );

  app.get("/", (c) => c.redirect(c.get("session") ? "/console/upload" : "/console/sign-in", 303));

  app.get("/sign-in", (c) => {
    if (c.get("session")) return c.redirect("/console/upload", 303);
    return c.html(<SignInPage />);
  });

  // Every form is read by the API's body reader: its size refused before and while it arrives,
  // within BATCH_READ_TIMEOUT_MS, its bytes counted in BATCH_BYTES_IN_FLIGHT.
  const bodies = { ...deps.batch.bodies, logger: deps.batch.logger };
  const formLimits = {
    maxBytes: deps.formMaxBytes,
    readTimeoutMs: deps.batch.limits.readTimeoutMs,
  };
  const readShortForm = (c: Context) => readForm(c, formLimits, bodies);

  app.post("/sign-in", async (c) => {
    const form = await readShortForm(c);
    const key = typeof form.key === "string" ? form.key.trim() : "";
    const role = key ? deps.keys.roleOf(key) : undefined;
    if (!role) {
      c.set("errorCode", ApiErrorCode.UNAUTHORIZED);
      return c.html(<SignInPage error="That API key is not valid. Check it and try again." />, 401);
    }
    await sessions.start(c, { role, keyId: keyFingerprint(key) });
    return c.redirect("/console/upload", 303);
  });

  app.post("/sign-out", requireSession("user"), async (c) => {
    const session = c.get("session")!;
    checkCsrf(session, (await readShortForm(c))[CSRF_FIELD]);
    await sessions.end(c, session);
    return c.redirect("/console/sign-in", 303);
  });

  const upload = createUploadHandler({ ...deps.batch, open });
  app.get("/upload", requireSession("user"), upload.show);
  app.post("/upload", requireSession("user"), upload.post);

  const batches = createBatchHandlers({ batches: deps.batches, open });
  app.get("/batches", requireSession("user"), batches.list);
  app.get("/batches/:batchId", requireSession("user"), batches.show);

  const publishing = createPublishingHandlers({
    ...deps.publishing,
    open,
    readForm: readShortForm,
  });
  app.get("/publishing", requireSession("admin"), publishing.show);
  app.post("/publishing/requeue", requireSession("admin"), publishing.requeue);

  app.all("*", (c) => {
    throw new ApiError(404, ApiErrorCode.NOT_FOUND, `There is no console page at ${c.req.path}`);
  });
  app.onError((error, c) => errorPage(c, error, open, deps.batch.logger));
  return app;
}

/** Lets in a session of the role (an admin session opens user pages); a page asked for without one leads to sign-in. */
function requireSession(role: "user" | "admin"): MiddlewareHandler {
  return async (c, next) => {
    const session = c.get("session");
    if (!session) {
      if (c.req.method === "GET") return c.redirect("/console/sign-in", 303);
      throw new ApiError(
        401,
        ApiErrorCode.UNAUTHORIZED,
        "Sign in first; your session may have ended",
      );
    }
    if (role === "admin" && session.role !== "admin") {
      throw new ApiError(403, ApiErrorCode.FORBIDDEN, "This page needs an admin API key");
    }
    // The API's use cases know the caller by this (it names who sent a batch).
    c.set("caller", session);
    await next();
  };
}

/** An error as a page, decided by the same mapper as the API's envelope. */
function errorPage(c: Context, error: Error, open: boolean, logger: Logger) {
  const response = describeError(error);
  const { error: body } = answerError(c, response, logger);
  return c.html(<ErrorPage open={open} {...body} />, response.status);
}
