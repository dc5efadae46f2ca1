"""What a validation found, per capability, and how progress is shown while it runs."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from threadloom.checkpoint.conformance.capabilities import BASE_CAPABILITIES, Capability

__all__ = ["CapabilityReport", "CapabilityResult", "ProgressCallbacks"]

Level = Literal["FULL", "BASE+PARTIAL", "BASE", "NONE"]


@dataclass(slots=True)
class CapabilityResult:
    """One capability: detected? passed (None when not run)? and the failures."""

    detected: bool
    passed: bool | None = None
    tests_passed: int = 0
    tests_failed: int = 0
    tests_skipped: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CapabilityReport:
    """Results of ``validate`` for one registered saver."""

    checkpointer_name: str
    results: dict[Capability, CapabilityResult] = field(default_factory=dict)

    def passed_all_base(self) -> bool:
        """The five required capabilities were all detected and passed."""
        return all(
            (r := self.results.get(c)) is not None and r.passed is True for c in BASE_CAPABILITIES
        )

    def passed_all(self) -> bool:
        """Every detected capability that ran passed."""
        return all(r.passed is not False for r in self.results.values())

    def conformance_level(self) -> Level:
        """``FULL`` (all detected passed), ``BASE+PARTIAL``, ``BASE`` or ``NONE``."""
        if not self.passed_all_base():
            return "NONE"
        if self.passed_all():
            return "FULL"
        extended = [r for c, r in self.results.items() if c not in BASE_CAPABILITIES]
        return "BASE+PARTIAL" if any(r.passed for r in extended) else "BASE"

    def to_dict(self) -> dict[str, Any]:
        return {
            "checkpointer_name": self.checkpointer_name,
            "conformance_level": self.conformance_level(),
            "results": {c.value: asdict(r) for c, r in self.results.items()},
        }

    def print_report(self, file: Any = None) -> None:
        """A box with ✅ passed / ❌ failed / ⊘ not implemented or skipped per capability."""
        out = file or sys.stdout
        width = 52
        print("┌" + "─" * width + "┐", file=out)
        print(f"│ {'Checkpointer: ' + self.checkpointer_name:<{width - 1}}│", file=out)
        print("├" + "─" * width + "┤", file=out)
        for capability in Capability:
            result = self.results.get(capability)
            if result is None or result.passed is None:
                mark, note = "⊘", "not implemented" if result and not result.detected else "skipped"
            elif result.passed:
                mark, note = "✅", f"{result.tests_passed} passed"
            else:
                mark, note = "❌", f"{result.tests_failed} failed, {result.tests_passed} passed"
            print(f"│ {mark} {capability.value:<18} {note:<{width - 23}}│", file=out)
        print("├" + "─" * width + "┤", file=out)
        ran = [r for r in self.results.values() if r.passed is not None]
        passed = sum(1 for r in ran if r.passed)
        summary = f"Result: {self.conformance_level()} ({passed}/{len(ran)})"
        print(f"│ {summary:<{width - 1}}│", file=out)
        print("└" + "─" * width + "┘", file=out)


def _noop(*_args: Any) -> None:
    return None


@dataclass(slots=True, frozen=True)
class ProgressCallbacks:
    """Hooks called while validating: capability start, each test's outcome, capability end."""

    on_capability_start: Callable[[Capability, bool], None] = _noop
    on_test_pass: Callable[[Capability, str], None] = _noop
    on_test_fail: Callable[[Capability, str, BaseException], None] = _noop
    on_capability_end: Callable[[Capability, CapabilityResult], None] = _noop

    @classmethod
    def default(cls) -> ProgressCallbacks:
        """A dot per passed test and ``F`` per failure, a line per capability."""

        def start(capability: Capability, detected: bool) -> None:
            print(f"{capability.value}: ", end="" if detected else "not implemented\n", flush=True)

        def end(capability: Capability, result: CapabilityResult) -> None:
            if result.detected:
                print(flush=True)

        return cls(
            on_capability_start=start,
            on_test_pass=lambda c, n: print(".", end="", flush=True),
            on_test_fail=lambda c, n, e: print("F", end="", flush=True),
            on_capability_end=end,
        )

    @classmethod
    def verbose(cls) -> ProgressCallbacks:
        """Every test by name, with the traceback of each failure."""

        def fail(capability: Capability, name: str, error: BaseException) -> None:
            print(f"  FAIL {capability.value}::{name}")
            traceback.print_exception(error)

        return cls(
            on_capability_start=lambda c, d: print(
                f"== {c.value}" + ("" if d else " (not implemented)")
            ),
            on_test_pass=lambda c, n: print(f"  ok   {c.value}::{n}"),
            on_test_fail=fail,
        )

    @classmethod
    def quiet(cls) -> ProgressCallbacks:
        return cls()
