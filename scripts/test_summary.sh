#!/usr/bin/env bash
# The closing line of a test run, from Deno's output in <log>: "N passed, N failed", plus
# ", N skipped" when Deno ignored any test. Exits with <status> (Deno's), or 1 when the runner
# printed no summary or ignored a test: a skipped test protects nothing, so it fails the run.
set -uo pipefail
log=$1 status=$2

# Deno's own summary reads "ok | 12 passed (3 steps) | 0 failed | 2 ignored (5s)".
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)
passed=$(echo "$summary" | sed -nE 's/.* ([0-9]+) passed.*/\1/p')
failed=$(echo "$summary" | sed -nE 's/.*\| ([0-9]+) failed.*/\1/p')
ignored=$(echo "$summary" | sed -nE 's/.*\| ([0-9]+) ignored.*/\1/p')
line="${passed:-0} passed, ${failed:-0} failed"
[ "${ignored:-0}" -gt 0 ] && line="$line, $ignored skipped"
echo "$line"
if [ -z "$summary" ] && [ "$status" = 0 ]; then
  echo "FAILED: the test runner printed no summary" >&2
  exit 1
fi
if [ "${ignored:-0}" -gt 0 ]; then
  echo "FAILED: $ignored test(s) ignored; remove the ignore or the test" >&2
  [ "$status" = 0 ] && exit 1
fi
exit "$status"
