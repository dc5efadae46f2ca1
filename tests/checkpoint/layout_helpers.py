"""Helpers of the layout upgrade tests: the generators in ``data/`` that wrote a database in an
old layout (and what that code read back), loaded by file name."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def load_maker(name: str) -> Any:
    """The module ``data/<name>.py`` (not a package: it also runs as a script on old code)."""
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its postponed annotations resolve in its own namespace
    spec.loader.exec_module(module)
    return module


def plain(value: Any) -> Any:
    """``value`` as a fixture's JSON holds it."""
    return json.loads(json.dumps(value, default=repr))
