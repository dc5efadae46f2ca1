"""Conformance suite for checkpointers: does a saver behave as the saver contract says?

Decorate an async generator that yields a fresh saver with ``@checkpointer_test(name=...)``,
then ``report = await validate(registered)`` and check ``report.passed_all_base()`` (or
``report.conformance_level() == "FULL"``). Each capability's checks run against a new saver;
a capability is tested only if the saver overrides its async method.
"""

from threadloom.checkpoint.conformance.capabilities import BASE_CAPABILITIES, Capability
from threadloom.checkpoint.conformance.initializer import (
    RegisteredCheckpointer,
    checkpointer_test,
    registry,
)
from threadloom.checkpoint.conformance.report import (
    CapabilityReport,
    CapabilityResult,
    ProgressCallbacks,
)
from threadloom.checkpoint.conformance.validate import validate

__all__ = [
    "BASE_CAPABILITIES",
    "Capability",
    "CapabilityReport",
    "CapabilityResult",
    "ProgressCallbacks",
    "RegisteredCheckpointer",
    "checkpointer_test",
    "registry",
    "validate",
]
