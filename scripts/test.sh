#!/usr/bin/env bash
# The project's own checks: lint, then the test suite (unit, lab, end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/python -m pytest tests "$@"
