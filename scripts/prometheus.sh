#!/usr/bin/env bash
# Makes sure `prometheus` and `promtool` are on the PATH for the monitoring tests: installs Debian's
# `prometheus` package (server + promtool) where they are missing, quietly, once.
#
#   scripts/prometheus.sh install   install if missing (apt-get; needs root or sudo)
#   scripts/prometheus.sh version   print both tools' versions
#
# The tests run the server binary themselves, on a free port with a temporary config and data
# dir. The package's own service is never started: a policy-rc.d that forbids service starts is
# put in place for the install (unless one exists), and where systemd runs, the unit the package
# enables is disabled again.
set -euo pipefail

say() { echo "prometheus.sh: $*" >&2; }
die() {
  echo "prometheus.sh: ERROR: $*" >&2
  exit 1
}

have_tools() { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }

install() {
  if have_tools; then return 0; fi
  command -v apt-get >/dev/null 2>&1 ||
    die "prometheus and promtool are missing and there is no apt-get; install Prometheus 2.x and put both on the PATH"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 ||
      die "prometheus and promtool are missing; installing them needs root (apt-get install prometheus)"
    sudo="sudo"
  fi
  local policy=/usr/sbin/policy-rc.d placed=0
  if [ ! -e "$policy" ]; then
    # Exit code 101 tells invoke-rc.d and deb-systemd-invoke not to start any service.
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    placed=1
  fi
  say "installing Debian's prometheus package (server + promtool) ..."
  local status=0 log
  log=$(mktemp)
  {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 update &&
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o DPkg::Lock::Timeout=300 \
        install --no-install-recommends prometheus
  } >"$log" 2>&1 || status=$?
  if [ "$placed" = 1 ]; then $sudo rm -f "$policy"; fi
  if [ "$status" != 0 ]; then
    cat "$log" >&2
    rm -f "$log"
    die "apt-get install prometheus failed (exit $status)"
  fi
  rm -f "$log"
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
  have_tools || die "the prometheus package is installed but prometheus/promtool are not on the PATH"
  say "installed: $(prometheus --version 2>&1 | head -n 1)"
}

case "${1:-}" in
  install) install ;;
  version)
    have_tools || die "prometheus and promtool are not installed (scripts/prometheus.sh install)"
    prometheus --version 2>&1 | head -n 1
    promtool --version 2>&1 | head -n 1
    ;;
  *)
    echo "usage: scripts/prometheus.sh install|version" >&2
    exit 2
    ;;
esac
