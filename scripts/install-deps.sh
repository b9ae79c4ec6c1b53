#!/usr/bin/env bash
# Installs everything switchyard needs to build, test, benchmark and run its demo, from
# Debian 12's archive (libsystemd-dev for sd_notify; systemd, lintian, pandoc, file and logrotate
# to build and check the Debian package, scripts/check-package.sh; influxdb for the InfluxDB push's
# test, which starts its own influxd; chromium to load the status page headless in its test).
# Idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libasio-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libssl-dev liburing-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format clang-tidy
  redis-server redis-sentinel redis-tools nutcracker
  python3 python3-redis python3-pytest python3-rq
  procps netcat-openbsd influxdb chromium
  libsystemd-dev systemd lintian pandoc file logrotate
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run BullMQ in its integration test (npm ci fetches BullMQ itself from the npm
# registry). A node and npm already on PATH, from Debian or elsewhere, are used as they are.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The packaged redis-server and nutcracker services are not used: tests and the demo start
# their own processes on free loopback ports. Stop the system ones so they hold no ports.
for svc in redis-server redis-sentinel nutcracker influxdb; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
echo "install-deps: ok"
