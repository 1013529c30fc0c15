#!/usr/bin/env bash
# Install the suite into .venv, then run the benchmark (options: see bench/run.py --help).
#   bash scripts/bench.sh --hosts 200 --latency-ms 50 --workers 2
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python bench/run.py "$@"
