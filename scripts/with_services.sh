#!/usr/bin/env bash
# Runs a command (a benchmark) with the PostgreSQL and Kafka it needs: checks PostgreSQL, starts the
# test Kafka broker unless one runs or KAFKA_BROKERS names one, and stops what it started afterwards.
#   bash scripts/with_services.sh deno bench -A bench/ingest_bench.ts
set -uo pipefail
cd "$(dirname "$0")/.."

source scripts/services.sh
need_postgres
need_kafka
"$@"
