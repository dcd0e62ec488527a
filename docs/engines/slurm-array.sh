#!/bin/sh
# A sweep split over a Slurm job array: sbatch docs/engines/slurm-array.sh, then, when all
# tasks are done, zabsim merge results/shard-*.json. SLURM_ARRAY_TASK_ID is the shard index.
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --job-name=zabsim-sweep
mkdir -p results
./zabsim sweep -shards 8 -master-seed 20261202 -seeds 100000 -json -out results/failures-$SLURM_ARRAY_TASK_ID \
  -result results/shard-$SLURM_ARRAY_TASK_ID.json > /dev/null
code=$?
[ $code -le 1 ]
