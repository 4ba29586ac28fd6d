# Sourced by scripts/test.sh and scripts/with_services.sh: the PostgreSQL check and the test Kafka
# broker that the tests and the benchmarks need. PostgreSQL is checked first because it costs
# nothing, while a first Kafka start downloads about 95 MB of jars.

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
started_kafka=0

# Exits 1 with one line saying what to do when PostgreSQL cannot be used.
need_postgres() {
  if ! deno run --allow-net --allow-env --allow-read --allow-sys scripts/check_services.ts postgres; then
    echo "FAILED: PostgreSQL is needed first (see the line above; README.md, Quick start); nothing was run" >&2
    exit 1
  fi
}

# Starts the test broker unless KAFKA_BROKERS names one or it already runs, exports KAFKA_BROKERS,
# and stops on exit only a broker it started. Exits 1 when Kafka cannot be had.
need_kafka() {
  if [ -z "${KAFKA_BROKERS:-}" ]; then
    # A broker that was already running (another run, a developer's) is left running afterwards.
    if bash scripts/kafka.sh status >/dev/null 2>&1; then
      echo "Using the test Kafka broker that is already running (scripts/kafka.sh)" >&2
    else
      echo "Starting the test Kafka broker (scripts/kafka.sh start)..." >&2
      started_kafka=1
      trap 'stop_kafka' EXIT
    fi
    if ! bash scripts/kafka.sh start >&2; then
      echo "FAILED: cannot start the Kafka broker (it needs Java 17+ and Maven; see the lines above and .cache/kafka/*.log); nothing was run" >&2
      exit 1
    fi
    export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-19092}"
  fi
  if ! deno run --allow-net --allow-env --allow-read --allow-sys scripts/check_services.ts kafka; then
    echo "FAILED: Kafka is needed (see the line above); nothing was run" >&2
    exit 1
  fi
}

stop_kafka() {
  if [ "$started_kafka" = 1 ]; then bash scripts/kafka.sh stop >&2 || true; fi
}
