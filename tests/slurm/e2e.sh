#!/usr/bin/env bash
# End to end on a real (one-node) Slurm: a 4-task job array of a small `scalesim tune`, each task
# one shard, then the merge job (--dependency=afterok), compared byte for byte with the same
# tune on one machine.
#
# Installs Debian's slurm-wlm and munge when missing, writes a one-node slurm.conf for this host
# into a temporary folder, starts munged, slurmctld and slurmd (their own sockets, ports, state
# and spool: nothing of a system Slurm is used or touched), submits through
# deploy/slurm/submit.sh, waits (at most SCALESIM_E2E_TIMEOUT seconds, default 600) and stops
# the daemons it started, by pid, however it exits. Runs as root (CI does).
#
# Environment: SCALESIM_BIN   the scalesim binary to test (default: cargo builds target/debug)
#              SCALESIM_E2E_KEEP=1  keep the temporary folder (logs, parts, outputs)
# Exits 0 on success; the last line printed is the one-line result.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
result() {
  echo "slurm e2e: $*"
}
fail() {
  echo "e2e: $*" >&2
  result "FAIL: $*"
  exit 1
}

# The scalesim binary the jobs run.
if [ -z "${SCALESIM_BIN:-}" ]; then
  cargo build --quiet --bin scalesim || fail "cargo build failed"
  SCALESIM_BIN=$repo/target/debug/scalesim
fi
[ -x "$SCALESIM_BIN" ] || fail "SCALESIM_BIN=$SCALESIM_BIN is not an executable"
SCALESIM_BIN=$(cd "$(dirname "$SCALESIM_BIN")" && pwd)/$(basename "$SCALESIM_BIN")

# Slurm and munge, from Debian's packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
  || ! command -v sbatch >/dev/null; then
  echo "== installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq slurm-wlm munge >/dev/null; } \
    || fail "cannot install slurm-wlm and munge with apt-get"
fi

work=$(mktemp -d /tmp/scalesim-slurm-e2e.XXXXXX)
chmod 0755 "$work"
pids=()
array='' merge=''
cleanup() {
  # Jobs still queued or running (a timeout) are cancelled before the daemons stop.
  if [ -n "$array$merge" ] && [ -n "$(squeue -h -j "${array:-0},${merge:-0}" -o %i 2>/dev/null)" ]; then
    scancel "$array" "$merge" 2>/dev/null
    for _ in $(seq 50); do [ -z "$(squeue -h -j "$array,$merge" -o %i 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  if [ "${SCALESIM_E2E_KEEP:-0}" = 1 ]; then
    echo "e2e: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free TCP ports for slurmctld and slurmd.
ports=$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))') || fail "cannot find free ports"
read -r ctld_port slurmd_port <<<"$ports"

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/jobs"
chmod 0700 "$work/munge"

# munge: a key of our own and a daemon on our own socket.
if command -v mungekey >/dev/null; then
  mungekey --create --keyfile="$work/munge/munge.key" --force >/dev/null 2>&1 \
    || dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
else
  dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 0400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.sock" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed" || fail "munged did not start: $(tail -3 "$work/munge/munged.log" 2>/dev/null)"
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

cat >"$work/slurm.conf" <<CONF
ClusterName=scalesim-e2e
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.sock
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=e2e Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf

slurmctld -D -c -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
pids+=("$!")
slurmd -D -f "$SLURM_CONF" >"$work/slurmd.out" 2>&1 &
pids+=("$!")
logs() {
  tail -5 "$work/slurmctld.log" "$work/slurmd.log" "$work/slurmctld.out" "$work/slurmd.out" 2>/dev/null >&2
}
idle=0
for _ in $(seq 120); do
  if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then idle=1; break; fi
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { logs; fail "a Slurm or munge daemon exited"; }; done
  sleep 0.5
done
[ $idle = 1 ] || { logs; fail "the node did not become idle within 60 s"; }

# The tune: 6 candidates × 2 replications of two hours of the quickstart day (12 jobs).
args=(tune configs/quickstart.toml --policy rps-10 --vary policy.rps-10.target=4..14:2 --seeds 2
  --set simulation.duration=2h)

echo "== single machine"
t0=$(date +%s.%N)
"$SCALESIM_BIN" "${args[@]}" --out "$work/single" >"$work/single.out" 2>&1 || fail "the single-machine tune failed: $(tail -3 "$work/single.out")"
t1=$(date +%s.%N)

echo "== Slurm: a 4-task array and the merge after it"
ids=$(cd "$repo" && SCALESIM=$SCALESIM_BIN SBATCH_OUTPUT="$work/jobs/%x-%A_%a.out" \
  deploy/slurm/submit.sh 4 "$work/parts" "$work/merged" "${args[@]}") || { logs; fail "submission failed"; }
read -r array merge <<<"$ids"
echo "array job $array, merge job $merge"
deadline=$(($(date +%s) + ${SCALESIM_E2E_TIMEOUT:-600}))
while [ -n "$(squeue -h -j "$array,$merge" -o %i 2>/dev/null)" ]; do
  if [ "$(date +%s)" -gt "$deadline" ]; then
    squeue >&2
    logs
    fail "the jobs did not finish within ${SCALESIM_E2E_TIMEOUT:-600} s"
  fi
  sleep 0.5
done
t2=$(date +%s.%N)

# Every task and the merge completed.
states=$(scontrol -o show job "$array" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' ')
mstate=$(scontrol -o show job "$merge" 2>/dev/null | grep -o 'JobState=[A-Z_]*')
tasks=$(scontrol -o show job "$array" 2>/dev/null | grep -c 'JobState=COMPLETED')
if [ "$tasks" != 4 ] || [ "$mstate" != JobState=COMPLETED ]; then
  cat "$work"/jobs/*.out >&2 2>/dev/null
  logs
  fail "array tasks: $states; merge: $mstate"
fi
n_parts=$(find "$work/parts" -name manifest.json | wc -l)
[ "$n_parts" = 4 ] || fail "expected 4 parts, found $n_parts"

# The merged outputs equal the single machine's, byte for byte.
diff -r "$work/single" "$work/merged" >&2 || fail "the merged outputs differ from the single machine's"
files=$(find "$work/single" -type f | wc -l)
[ "$files" -ge 4 ] || fail "the single-machine tune wrote only $files files"
single_s=$(awk "BEGIN {print $t1 - $t0}")
slurm_s=$(awk "BEGIN {print $t2 - $t1}")
printf 'single machine %.1f s; slurm, 4 shards and merge, %.1f s (%s CPUs, load average %s)\n' \
  "$single_s" "$slurm_s" "$cpus" "$(cut -d' ' -f1-3 /proc/loadavg)"
result "PASS: 4-task array ($tasks COMPLETED) + afterok merge wrote $files files byte-identical to one machine (single $(printf '%.1f' "$single_s") s, slurm $(printf '%.1f' "$slurm_s") s)"
