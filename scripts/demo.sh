#!/usr/bin/env bash
# Installs what is needed, builds switchyard, starts a demo topology on loopback and
# switchyard in front of it, in the foreground. Ctrl-C stops everything this script started.
#
#   two redis-server masters (127.0.0.1:7001, 127.0.0.1:7002)
#   switchyard pool "demo" on 127.0.0.1:22121, ketama/fnv1a_64 like nutcracker,
#   stats JSON on 127.0.0.1:22222
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

"$root/scripts/install-deps.sh"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target switchyard

run_dir=$(mktemp -d /tmp/switchyard-demo.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$run_dir"
  echo "demo stopped"
}
trap cleanup EXIT INT TERM

for port in 7001 7002; do
  if redis-cli -p "$port" ping >/dev/null 2>&1; then
    echo "port $port is already in use; stop what runs there first" >&2
    exit 1
  fi
  mkdir -p "$run_dir/$port"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$run_dir/$port" --logfile "$run_dir/$port/redis.log" &
  pids+=($!)
done
for port in 7001 7002; do
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

cat > "$run_dir/switchyard.yml" <<YAML
demo:
  listen: 127.0.0.1:22121
  hash: fnv1a_64
  distribution: ketama
  redis: true
  timeout: 1000
  servers:
    - 127.0.0.1:7001:1 shard1
    - 127.0.0.1:7002:1 shard2
YAML

cat <<MSG

switchyard demo is starting (config: $run_dir/switchyard.yml)
  connect:   redis-cli -p 22121
  try:       redis-cli -p 22121 mset a 1 b 2 c 3 && redis-cli -p 22121 mget a b c
  see where keys landed: redis-cli -p 7001 keys '*' ; redis-cli -p 7002 keys '*'
  stats:     nc 127.0.0.1 22222
  stop:      Ctrl-C
MSG
"$root/build/release/src/app/switchyard" -c "$run_dir/switchyard.yml" -a 127.0.0.1 -s 22222 -i 1000 &
pids+=($!)
wait "${pids[-1]}"
