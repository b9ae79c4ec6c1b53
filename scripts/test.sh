#!/usr/bin/env bash
# Installs what is needed, builds switchyard and runs every test:
#   1. release build: unit, fuzz-corpus and integration tests (real redis-server, nutcracker),
#      then the Debian package built from it and checked (scripts/check-package.sh)
#   2. ASan+UBSan build: unit tests, and the integration smoke tests against its binary
#   3. TSan build: the same
# Set SY_SANITIZERS=0 to skip 2 and 3 (a quicker local run). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
"$(pwd)/scripts/install-deps.sh"

step() { printf '\n==== %s\n' "$*"; }

step "release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"

step "release tests (unit, fuzz corpus, integration)"
ctest --preset release -j "$jobs"

step "Debian package (cpack, lintian, systemd-analyze verify, dpkg -i/-r/-P)"
"$(pwd)/scripts/check-package.sh" build/release

if [ "${SY_SANITIZERS:-1}" != "0" ]; then
  for preset in asan tsan; do
    step "$preset build"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j "$jobs"
    step "$preset unit and smoke tests"
    ctest --preset "$preset" -j "$jobs"
  done
fi
step "all tests passed"
