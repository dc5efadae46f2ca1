"""Deprecated (LangGraph 1.0): the types moved to ``threadloom.types``; importing them from here
still works, with LangGraph's deprecation warning."""

import warnings

from threadloom.types import *  # noqa: F403
from threadloom.types import __all__ as _types_all
from threadloom.warnings import LangGraphDeprecatedSinceV10

__all__ = list(_types_all)

warnings.warn(
    "Importing from threadloom.pregel.types is deprecated. Please use "
    "'from threadloom.types import ...' instead.",
    LangGraphDeprecatedSinceV10,
    stacklevel=2,
)
