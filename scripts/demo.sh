#!/usr/bin/env bash
# Installs what is needed, builds switchyard, starts a demo topology on loopback and
# switchyard in front of it, in the foreground. Ctrl-C stops everything this script started.
#
#   two replication groups g0 and g1 (each one redis-server master and two replicas) and
#   three redis-sentinel processes watching both, on free ports (printed at start);
#   switchyard pool "demo" on 127.0.0.1:22121 over the Sentinel-managed groups, reads on
#   the replicas (read_from: replica), stats JSON on 127.0.0.1:22222
#
#   scripts/demo.sh --cluster: a Redis Cluster instead (three masters with one replica each,
#   made with redis-cli --cluster create), behind a `cluster: true` pool "demo"
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=sentinel
case "${1:-}" in
  "") ;;
  --cluster) mode=cluster ;;
  *) echo "usage: scripts/demo.sh [--cluster]" >&2; exit 2 ;;
esac

"$root/scripts/install-deps.sh"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target switchyard

for port in 22121 22222; do
  if redis-cli -p "$port" ping >/dev/null 2>&1 || nc -z 127.0.0.1 "$port" 2>/dev/null; then
    echo "port $port is already in use; stop what runs there first" >&2
    exit 1
  fi
done

run_dir=$(mktemp -d /tmp/switchyard-demo.XXXXXX)
config="$run_dir/switchyard.yml"
pids=()
cleanup() {
  trap - EXIT INT TERM
  # Newest first: switchyard, then the topology (which stops its Redis and Sentinel processes).
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$run_dir"
  echo "demo stopped"
}
trap cleanup EXIT INT TERM

if [ "$mode" = cluster ]; then
  /usr/bin/python3 "$root/tests/integration/cluster_topology.py" --masters 3 --replicas 1 \
    --workdir "$run_dir/cluster" --switchyard-config "$config" --pool-name demo \
    --listen 127.0.0.1:22121 &
else
  /usr/bin/python3 "$root/tests/integration/topology.py" --groups 2 --replicas 2 --sentinels 3 \
    --workdir "$run_dir/topology" --switchyard-config "$config" --pool-name demo \
    --listen 127.0.0.1:22121 --read-from replica &
fi
pids+=($!)
for _ in $(seq 600); do
  [ -f "$config" ] && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "the demo topology did not start" >&2
    exit 1
  fi
  sleep 0.1
done
[ -f "$config" ] || { echo "the demo topology was not ready within 60s" >&2; exit 1; }
if [ "$mode" = cluster ]; then
  seed=$(grep -o '127\.0\.0\.1:[0-9]*:1' "$config" | head -1 | cut -d: -f2)
  cat <<MSG

switchyard demo (Redis Cluster) is starting (config: $config)
  connect:   redis-cli -p 22121
  try:       redis-cli -p 22121 mset a 1 b 2 c 3 && redis-cli -p 22121 mget a b c
  watch:     redis-cli -p 22121 INFO cluster    (slot table, MOVED and ASK followed)
             redis-cli -p 22121 INFO groups     (shards: masters, replicas, slots)
  reshard:   redis-cli --cluster reshard 127.0.0.1:$seed --cluster-from all \\
               --cluster-to \$(redis-cli -p $seed cluster myid) --cluster-slots 1000 --cluster-yes
  stats:     nc 127.0.0.1 22222
  status:    http://127.0.0.1:22223/    (live status page; data at /status.json)
  stop:      Ctrl-C
MSG
else
  sentinel_port=$(grep -o 'sentinels: \[127\.0\.0\.1:[0-9]*' "$config" | grep -o '[0-9]*$')
  cat <<MSG

switchyard demo is starting (config: $config)
  connect:   redis-cli -p 22121
  try:       redis-cli -p 22121 mset a 1 b 2 c 3 && redis-cli -p 22121 mget a b c
  watch:     redis-cli -p 22121 INFO groups     (masters, replicas, health, failovers)
  failover:  redis-cli -p $sentinel_port SENTINEL FAILOVER g0
  stats:     nc 127.0.0.1 22222
  status:    http://127.0.0.1:22223/    (live status page; data at /status.json)
  stop:      Ctrl-C
MSG
fi
"$root/build/release/src/app/switchyard" -c "$config" -a 127.0.0.1 -s 22222 -i 1000 \
  --admin-port 22223 --admin-addr 127.0.0.1 &
pids+=($!)

# One line that shows a transaction and a subscription through the proxy.
/usr/bin/python3 - <<'PY' || echo "demo check failed: see the switchyard log above" >&2
import time
import redis

client = redis.Redis(port=22121, socket_timeout=5)
deadline = time.monotonic() + 30
while True:
    try:
        client.set("demo:visits", 0)
        break
    except redis.RedisError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
subscriber = client.pubsub()
subscriber.subscribe("demo:news")
subscriber.get_message(timeout=5)  # the subscribe confirmation
pipe = client.pipeline()  # MULTI ... EXEC
pipe.incr("demo:visits").incr("demo:visits")
visits = pipe.execute()
receivers = client.publish("demo:news", "hello")
message = subscriber.get_message(timeout=5)
print(f"through switchyard: MULTI INCR INCR EXEC -> {visits}; "
      f"PUBLISH demo:news reached {receivers} subscriber, who got "
      f"{message['data'].decode() if message else None!r}")
subscriber.close()
PY
wait "${pids[-1]}"
