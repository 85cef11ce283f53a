#!/usr/bin/env bash
# One GPU check, under 8 minutes on one GPU, one table: every training command with --device cuda
# (run.json must record it), the CIFAR recipe's seconds per epoch and time to 10 epochs beside
# airbench94 on the same random images and GPU (CUDA events), and the peak GPU memory of each.
#
#   benchmarks/device_check.sh           # on a machine with a GPU
#   benchmarks/device_check.sh --tiny    # CPU self-test with tiny data (what tests/benchmarks runs)
#
# airbench (PyPI) is a benchmark-only dependency: installed here when missing, never by nnlab.
# Offline, point AIRBENCH_FROM at a folder holding its sdist (pip download airbench --no-deps -d DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [[ " $* " != *" --tiny "* ]] && ! "$python" -c "import airbench" 2>/dev/null; then
  if [[ -n "${AIRBENCH_FROM:-}" ]]; then
    "$python" -m pip install --quiet --no-deps --no-index --find-links "$AIRBENCH_FROM" airbench || true
  else
    "$python" -m pip install --quiet --no-deps 'airbench==0.1.8' || true
  fi
fi
limit=480  # 8 minutes: the check stops itself rather than hold a lent GPU longer
[[ " $* " == *" --tiny "* ]] && limit=300
limit=${DEVICE_CHECK_LIMIT_S:-$limit}
exec timeout "$limit" "$python" benchmarks/device_check.py "$@"
