#!/usr/bin/env bash
# Submits a scalesim sweep to Slurm: an array of N shard tasks and the merge job after them.
#
#   deploy/slurm/submit.sh N PARTS_DIR OUT_DIR tune configs/quickstart.toml --policy rps-10 \
#       --vary policy.rps-10.target=6..14:2 --seeds 5
#
# Prints the array job id and the merge job id. Extra sbatch options (partition, time limit,
# account) go in SBATCH_* environment variables, which sbatch reads itself (e.g.
# SBATCH_PARTITION=batch, SBATCH_TIMELIMIT=02:00:00).
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 N PARTS_DIR OUT_DIR run|tune SCENARIO [OPTIONS...]" >&2
  exit 2
fi
n=$1 parts=$2 out=$3
shift 3
case $n in '' | *[!0-9]* | 0) echo "$0: N must be a whole number of shards, at least 1 (got '$n')" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$parts"
array=$(sbatch --parsable --array="0-$((n - 1))" --export="ALL,SCALESIM_PARTS=$parts" \
  "$here/shard.sbatch" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" \
  --export="ALL,SCALESIM_PARTS=$parts,SCALESIM_OUT=$out" "$here/merge.sbatch")
merge=${merge%%;*}
echo "$array $merge"
