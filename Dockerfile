# execution-ingest: the service image. CI does not build it (our machines have no Docker engine);
# it is kept simple so that what it runs is exactly `deno task start`.
FROM denoland/deno:2.9.6

WORKDIR /app
ENV DENO_DIR=/deno-dir HOST=0.0.0.0 PORT=8080 DATA_DIR=/app/data

# Dependencies first, in their own layer: it is rebuilt only when the lock or the import map changes.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY src/ ./src/

RUN mkdir -p /app/data && chown -R deno:deno /app/data
USER deno
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8080/healthz'); if (!r.ok) Deno.exit(1);"]
# The same permissions as `deno task start`.
CMD ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-sys", "src/main.ts"]
