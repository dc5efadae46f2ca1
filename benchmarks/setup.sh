#!/usr/bin/env bash
# Create .bench-venv (git-ignored): threadloom in editable mode plus the LangGraph release it is
# compared with. LangGraph is never a dependency of threadloom; it lives only in this venv.
# Extra arguments are more packages for other suites, e.g. langgraph-checkpoint-sqlite sqlite-vec.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .bench-venv
.bench-venv/bin/python -m pip install -q --upgrade pip
.bench-venv/bin/python -m pip install -q -e . "langgraph==1.2.22" "$@"
.bench-venv/bin/python -c "import langgraph.graph, threadloom; print('.bench-venv is ready')"
