#!/usr/bin/env bash
# Benchmarks behind the issue notes: full-size runs on the shared CIFAR-10 copy, on this
# machine's CPUs, one after another (never in parallel: they would slow each other down).
#   scripts/measure.sh [OUT_ROOT]      (default runs/measured)
# Prints each run's wall time, then a table of every record (test accuracy, train time, device).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/measured}
data=../shared/data/cifar10-jpeg.tar.gz
run() {
  local name=$1; shift
  local start=$(date +%s)
  .venv/bin/python -m cifar_lessons run --data "$data" --out "$out/$name" --overwrite --verbose 2 "$@"
  echo "measure: $name wall $(( $(date +%s) - start )) s"
}
run seed-resnet50-random --profile seed --backbone resnet50 --weights none
run seed-lite0-32 --profile seed --backbone efficientnet_lite0 --weights imagenet
run seed-lite0-96 --profile seed --backbone efficientnet_lite0 --weights imagenet --image-size 96
.venv/bin/python scripts/results_table.py "$out"
