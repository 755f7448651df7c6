#!/usr/bin/env bash
# Records a Locust step test of one replica: starts the replica (service.py), optionally a
# delaying proxy in front of it (delay_proxy.py: network and client-side latency that occupies no
# worker), runs real Locust headless on loopback with a step-load shape, and keeps the CSVs.
#   tools/locust-bench/run.sh            # tests/fixtures/locust/: 10 steps × 40 s, ~7 minutes
#   tools/locust-bench/run.sh tests/fixtures/locust/overhead   # a fixture with its bench.env
#   STEPS=3 STEP_SECONDS=20 tools/locust-bench/run.sh /tmp/try   # a quick look elsewhere
# Settings (environment, or `bench.env` in the output folder, read first):
#   SERVICE_ARGS  service.py's arguments (default: --workers 4 --queue 16 --mean-ms 50 --sigma 0.5)
#   DELAY_MS      one-way delay of the proxy, ms (default 0: no proxy)
#   JITTER_MS     uniform jitter added to each delay, ms (default 0)
#   STEPS, STEP_USERS, STEP_SECONDS   the load shape (locustfile.py)
# A fixture folder also gets server.sha256: the SHA-256 of the server code that ran.
# Needs: python3 -m pip install locust
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../tests/fixtures/locust}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -f "$out/bench.env" ]; then
  set -a
  # shellcheck disable=SC1091
  . "$out/bench.env"
  set +a
fi
SERVICE_ARGS="${SERVICE_ARGS:---workers 4 --queue 16 --mean-ms 50 --sigma 0.5}"
DELAY_MS="${DELAY_MS:-0}"
JITTER_MS="${JITTER_MS:-0}"
export STEPS STEP_USERS STEP_SECONDS 2>/dev/null || true
port="${PORT:-8089}"
tmp="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT

wait_port() {
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# shellcheck disable=SC2086
python3 "$here/service.py" --port "$port" $SERVICE_ARGS &
pids+=($!)
wait_port "$port"
target="$port"
if [ "$DELAY_MS" != "0" ]; then
  target=$((port + 1))
  python3 "$here/delay_proxy.py" --listen "$target" --target "$port" --delay-ms "$DELAY_MS" \
    --jitter-ms "$JITTER_MS" &
  pids+=($!)
  wait_port "$target"
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
SCALESIM_CUMULATIVE_CSV="$tmp/cumulative" python3 -m locust -f "$here/locustfile.py" --headless \
  --host "http://127.0.0.1:$target" --csv "$tmp/step" --csv-full-history --only-summary \
  --loglevel WARNING || true   # Locust exits 1 when any request failed; overload is the point
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

cp "$tmp/step_stats_history.csv" "$out/step_stats_history.csv"
cp "$tmp/step_stats.csv" "$out/step_stats.csv"
if [ -f "$out/bench.env" ]; then
  # The server code that ran, by content hash (tests/calibrate_locust.rs checks it still is).
  code=(tools/locust-bench/service.py tools/locust-bench/locustfile.py)
  if [ "$DELAY_MS" != "0" ]; then code+=(tools/locust-bench/delay_proxy.py); fi
  (cd "$here/../.." && sha256sum "${code[@]}") > "$out/server.sha256"
else
  cp "$tmp/cumulative_stats_history.csv" "$out/cumulative_stats_history.csv"
fi
ls -l "$out"
