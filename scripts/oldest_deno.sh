#!/usr/bin/env bash
# Prints the path of the oldest Deno the README claims (pinned in tools/deno-oldest/, the version
# Deno Deploy runs), installing it from the npm package `deno` into .cache/deno-oldest/ when missing.
#   deno="$(bash scripts/oldest_deno.sh)"   # the lifecycle test (tests/deno_deploy/) runs on it
set -euo pipefail
cd "$(dirname "$0")/.."
pins=tools/deno-oldest
dir=.cache/deno-oldest
version=$(sed -nE 's/.*"deno": "([^"]+)".*/\1/p' "$pins/package.json")
binary() { ls "$dir"/node_modules/@deno/*/deno 2>/dev/null | head -n 1; }
# Installed again when the pin moved, so the cache never answers with another version.
if [ -z "$(binary)" ] || ! cmp -s "$pins/package.json" "$dir/package.json"; then
  echo "Installing Deno $version (the oldest the README claims) from npm into $dir ..." >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$pins/package.json" "$dir/"
  # No lock file: the exact version pins the wrapper, and it pins its platform binary to the same
  # version (a lock written here would list only the platforms the registry offered this machine).
  npm install --prefix "$dir" --no-package-lock --ignore-scripts --no-audit --no-fund \
    --loglevel=error >&2
fi
if [ -z "$(binary)" ]; then
  echo "Cannot find the Deno $version binary under $dir/node_modules/@deno/ after installing;" \
    "the npm package deno@$version has none for this platform" >&2
  exit 1
fi
echo "$PWD/$(binary)"
