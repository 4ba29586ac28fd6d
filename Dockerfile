# execution-ingest: the service image, `deno task start` with only the permissions it needs.
# CI has no Docker engine: tests/container/ lints this file, replays its dependency step and
# runs its command and health check against the real service instead.
# Debian, not distroless or alpine: the health check below needs bash.
FROM denoland/deno:debian-2.9.6

ENV DENO_DIR=/deno-dir HOST=0.0.0.0 PORT=8080 DATA_DIR=/app/data
WORKDIR /app
RUN mkdir -p /app/data && chown -R deno:deno /app
# As the runtime user from here on, so that Deno may write its transpile cache into DENO_DIR.
USER deno

# Dependencies first, in their own layer: rebuilt only when the import map or the lock changes.
# The test-only packages leave both before anything is fetched; the rest keeps the lock's versions.
COPY --chown=deno:deno deno.json deno.lock ./
RUN deno remove --frozen=false @seriousme/openapi-schema-validator @sinonjs/fake-timers ajv \
    ajv-formats dclint dockerfile-utils playwright-core yaml \
  && deno install --frozen
COPY src/ ./src/
RUN deno cache --frozen src/main.ts src/publish/publishing_worker_entry.ts src/db/embedded_postgres_worker.ts
# The submit CLI as one file, served at /cli/submit.mjs (CLI_BUNDLE_PATH): built from this image's src/.
COPY scripts/build_cli.ts ./scripts/
RUN deno task build:cli

VOLUME /app/data
EXPOSE 8080
# bash's /dev/tcp asks /healthz on the configured port: no second Deno process every 10 s.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/$PORT && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r -t 2 status <&3 && [[ $status == 'HTTP/1.1 200 '* ]]"]
# Network: the listener, PostgreSQL and Kafka. Environment: the configuration (read as a whole).
# Reads: the code, the data and the packages. Writes: the data only. System: pino's hostname.
# Heap limits as `deno task start` has them (README, Performance: memory).
CMD ["run", "--v8-flags=--max-old-space-size=160,--max-semi-space-size=8", "--cached-only", "--frozen", "--allow-net", "--allow-env", "--allow-read=/app,/deno-dir", "--allow-write=/app/data", "--allow-sys=hostname", "src/main.ts"]
