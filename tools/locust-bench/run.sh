#!/usr/bin/env bash
# Regenerates tests/fixtures/locust/: starts the replica (service.py), runs real Locust headless
# on loopback with a step-load shape, and keeps the CSVs.
#   tools/locust-bench/run.sh            # 10 steps × 40 s, ~7 minutes
#   STEPS=3 STEP_SECONDS=20 tools/locust-bench/run.sh /tmp/try   # a quick look elsewhere
# Needs: python3 -m pip install locust
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../tests/fixtures/locust}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
port="${PORT:-8089}"
tmp="$(mktemp -d)"

python3 "$here/service.py" --port "$port" --workers 4 --queue 16 --mean-ms 50 --sigma 0.5 &
svc=$!
trap 'kill $svc 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  sleep 0.1
done

SCALESIM_CUMULATIVE_CSV="$tmp/cumulative" python3 -m locust -f "$here/locustfile.py" --headless \
  --host "http://127.0.0.1:$port" --csv "$tmp/step" --csv-full-history --only-summary \
  --loglevel WARNING || true   # Locust exits 1 when any request failed; overload is the point

cp "$tmp/step_stats_history.csv" "$out/step_stats_history.csv"
cp "$tmp/step_stats.csv" "$out/step_stats.csv"
cp "$tmp/cumulative_stats_history.csv" "$out/cumulative_stats_history.csv"
ls -l "$out"
