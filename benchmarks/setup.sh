#!/usr/bin/env bash
# Create .bench-venv (git-ignored): threadloom in editable mode plus the LangGraph release it is
# compared with. LangGraph is never a dependency of threadloom; it lives only in this venv.
# LangGraph's own SQLite saver comes too: run.py's sqlchat500 and history500 compare with it.
# Extra arguments are more packages for other suites, e.g. sqlite-vec.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .bench-venv
.bench-venv/bin/python -m pip install -q --upgrade pip
.bench-venv/bin/python -m pip install -q -e . "langgraph==1.2.22" langgraph-checkpoint-sqlite "$@"
.bench-venv/bin/python -c "import langgraph.graph, threadloom; print('.bench-venv is ready')"
