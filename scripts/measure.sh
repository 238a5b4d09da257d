#!/usr/bin/env bash
# The full-size runs behind results/ and the chapter "Doing better": 10,000 training images (9,000
# to fit, 1,000 to validate), all 10,000 test images, on the shared CIFAR-10 copy and this machine's
# CPUs, one after another (never in parallel: they would slow each other down).
#
#   scripts/measure.sh                 every run below, in order
#   scripts/measure.sh NAME [NAME...]  only those
#
# Each run's record goes to runs/measured/NAME; its small files (record.json with the command and
# commit that made it, history.json, metrics.json; no model, no predictions) are copied to
# results/NAME/, which is what the book shows and the repository keeps.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${CIFAR_LESSONS_DATA:-../shared/data/cifar10-jpeg.tar.gz}
lite0=(--backbone efficientnet_lite0 --weights imagenet)
declare -A RUNS=(
  # The ladder of the chapter "Doing better": one change at a time from the seed recipe.
  [lite0-32-seed]="--profile seed ${lite0[*]}"
  [lite0-32-cosine]="--profile seed ${lite0[*]} --fine-tune-lr 1e-4 --schedule cosine"
  [lite0-32-head3]="--profile seed ${lite0[*]} --fine-tune-lr 1e-4 --schedule cosine --head-epochs 3"
  [lite0-32-better]="--profile better ${lite0[*]} --image-size 32"
  [lite0-32-better-15]="--profile better ${lite0[*]} --image-size 32 --fine-tune-epochs 15"
  [lite0-96-seed]="--profile seed ${lite0[*]} --image-size 96"
  [lite0-96-better]="--profile better ${lite0[*]} --image-size 96"
  [lite0-128-better]="--profile better ${lite0[*]}"
  # Mechanics only (random weights): the recipe's own backbone, timed.
  [resnet50-32-seed-random]="--profile seed --backbone resnet50 --weights none"
)
# What scripts/measure.sh runs without names: the records in results/ (lite0-96-seed and the
# ResNet50 timing run are there to be run by name).
ORDER=(lite0-32-seed lite0-32-cosine lite0-32-head3 lite0-32-better lite0-96-better lite0-128-better
       lite0-32-better-15)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${ORDER[@]}")
for name in "${names[@]}"; do
  [ -n "${RUNS[$name]:-}" ] || { echo "measure: unknown run $name (known: ${!RUNS[*]})" >&2; exit 2; }
done
for name in "${names[@]}"; do
  start=$(date +%s)
  # shellcheck disable=SC2086  # the options are words
  .venv/bin/python -m cifar_lessons run ${RUNS[$name]} --data "$data" --out "runs/measured/$name" \
    --overwrite --verbose 2
  echo "measure: $name wall $(( $(date +%s) - start )) s"
  mkdir -p "results/$name"
  cp "runs/measured/$name/"{record.json,history.json,metrics.json} "results/$name/"
done
.venv/bin/python scripts/results_table.py results
