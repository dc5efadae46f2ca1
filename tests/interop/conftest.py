"""Fixtures of the LangGraph bridge tests: skipped as a whole when LangGraph is not installed.

Only ``tests/interop/`` may import LangGraph (it comes with the ``test-langgraph`` extra).
"""

from __future__ import annotations

import pytest

pytest.importorskip("langgraph", reason="the LangGraph bridge needs the test-langgraph extra")
