// The OpenAPI document and interactive docs (placeholder until the document is generated).
import { Hono } from "hono";

/** Creates /openapi.json and /docs. */
export function createOpenApiRoutes() {
  const app = new Hono();
  return app;
}
