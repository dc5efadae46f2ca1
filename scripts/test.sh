#!/usr/bin/env bash
# Set up a virtual environment and run the whole suite: ruff (lint + format), mypy strict, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# tests/cli/test_chat_tmux.py types into `threadloom chat` through tmux: install it when missing
if ! command -v tmux >/dev/null && command -v apt-get >/dev/null; then
    as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo -n"
    { $as_root apt-get update -qq && $as_root apt-get install -y -qq tmux; } >/dev/null 2>&1 ||
        echo "could not install tmux: the terminal test of threadloom chat will be skipped" >&2
fi
.venv/bin/pytest "$@"
