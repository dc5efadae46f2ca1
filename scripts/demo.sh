#!/usr/bin/env bash
# Set up a virtual environment and run the thread-memory chatbot example.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
.venv/bin/python examples/chatbot.py
