#!/usr/bin/env bash
# The whole test suite against real services: checks PostgreSQL first, then starts Kafka (unless
# KAFKA_BROKERS names one), runs every test, stops what it started, prints "N passed, N failed"
# (followed by ", N skipped", and a failed run, when a test was ignored).
set -uo pipefail
cd "$(dirname "$0")/.."

mkdir -p .cache
source scripts/services.sh
need_postgres

# The monitoring tests run Prometheus and promtool (Debian's package, installed once where missing).
if ! bash scripts/prometheus.sh install >&2; then
  echo "FAILED: the monitoring tests need prometheus and promtool (see above); no test was run" >&2
  exit 1
fi

# Installs Debian's package <package> that <purpose> need, quietly: apt-get's output goes to
# .cache/apt-<tag>.log and only its tail is shown, when the install fails and no test is run.
install_debian_package() {
  local package=$1 log=".cache/apt-$2.log" purpose=$3
  echo "Installing Debian's $package for $purpose..." >&2
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "FAILED: cannot install $package (see $log); no test was run" >&2
    exit 1
  fi
}

# The JUnit import tests run pytest to write a real report: Debian's python3-pytest where no
# python3 on PATH has pytest (installed once, quietly; the tests look in both places).
if ! python3 -m pytest --version >/dev/null 2>&1 && ! /usr/bin/python3 -m pytest --version >/dev/null 2>&1; then
  install_debian_package python3-pytest pytest "the JUnit import tests"
fi

# The operator console's browser tests drive Debian's chromium, headless, through playwright-core
# (installed once, quietly, where missing).
if [ ! -x /usr/bin/chromium ]; then
  install_debian_package chromium chromium "the console's browser tests"
fi

need_kafka

began=$(date +%s)
deno test --allow-all "$@" tests/ 2>&1 | tee .cache/test-output.log
status=${PIPESTATUS[0]}
echo "Test run took $(( $(date +%s) - began )) s" >&2

bash scripts/test_summary.sh .cache/test-output.log "$status"
