#!/bin/bash
# Submit a sharded sweep as a job array and its merge as a job that waits for the whole array
# (docs/slurm.md). Usage: EXPERIMENT=... SHARDS=8 OUT=results/x ./submit_sweep.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SHARDS=${SHARDS:-4}
export EXPERIMENT=${EXPERIMENT:-scenarios/experiments/paths.toml} SHARDS OUT=${OUT:-results/paths}
ARRAY_JOB=$(sbatch --parsable --export=ALL --array=0-$((SHARDS - 1)) "$here/sweep_array.sbatch")
sbatch --export=ALL --dependency=afterok:"$ARRAY_JOB" "$here/merge.sbatch"
