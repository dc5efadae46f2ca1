#!/usr/bin/env bash
# Set up a virtual environment with the `threadloom` command, play the memory demo on a fresh
# SQLite file (threadloom-demo.db), then say how to start chatting. Offline, no API key.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[cli]'
.venv/bin/threadloom demo --db threadloom-demo.db
cat <<'NEXT'

Now chat yourself (your threads and memories go to one SQLite file in your data directory,
and are still there the next time you start it; /help lists the commands):

    .venv/bin/threadloom chat --user YOUR_NAME

Look inside any threadloom database: .venv/bin/threadloom threads ls --db threadloom-demo.db
(docs/cli.md has every command; docs/quickstart.md builds the same chatbot in code).
NEXT
