#!/usr/bin/env bash
# The two entry points, each self-sufficient on a fresh Debian 12 machine (as root):
#   bash run.sh demo    set up, then run the main job on the embedded default
#   bash run.sh test    set up, then run the whole test suite
# Any other arguments are passed to the `oorl` command after set-up: bash run.sh doctor
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
case "${1:-demo}" in
  test)
    shift
    .venv/bin/ruff check src tests benchmarks
    .venv/bin/ruff format --check src tests benchmarks
    exec .venv/bin/pytest -n 2 --dist loadscope "$@"
    ;;
  *)
    exec .venv/bin/oorl "${@:-demo}"
    ;;
esac
