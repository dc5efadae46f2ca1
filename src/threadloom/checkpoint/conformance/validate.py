"""``validate``: run each detected capability's checks against a fresh saver."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import AsyncIterator
from typing import Any

from threadloom.checkpoint.conformance.capabilities import Capability, detect
from threadloom.checkpoint.conformance.initializer import RegisteredCheckpointer
from threadloom.checkpoint.conformance.report import (
    CapabilityReport,
    CapabilityResult,
    ProgressCallbacks,
)
from threadloom.checkpoint.conformance.suites import SUITES

__all__ = ["validate"]


@contextlib.asynccontextmanager
async def _running(generator: AsyncIterator[Any]) -> AsyncIterator[Any]:
    value = await generator.__anext__()
    try:
        yield value
    finally:
        with contextlib.suppress(StopAsyncIteration):
            await generator.__anext__()


async def validate(
    registered: RegisteredCheckpointer,
    *,
    capabilities: set[str] | None = None,
    progress: ProgressCallbacks | None = None,
) -> CapabilityReport:
    """Run the suite; ``capabilities`` narrows which capabilities are tried."""
    progress = progress or ProgressCallbacks.quiet()
    report = CapabilityReport(registered.name)
    lifespan = _running(registered.lifespan()) if registered.lifespan else contextlib.nullcontext()
    async with lifespan:
        for capability in Capability:
            wanted = capabilities is None or capability.value in capabilities
            if not wanted or capability.value in registered.skip_capabilities:
                report.results[capability] = CapabilityResult(detected=False)
                continue
            async with _running(registered.factory()) as saver:
                detected = capability in detect(saver)
                result = CapabilityResult(detected=detected)
                progress.on_capability_start(capability, detected)
                if detected:
                    for check in SUITES[capability]:
                        try:
                            await check(saver)
                        except Exception as error:
                            result.tests_failed += 1
                            result.failures.append(
                                f"{check.__name__}: {error!r}\n"
                                + "".join(traceback.format_exception(error))
                            )
                            progress.on_test_fail(capability, check.__name__, error)
                        else:
                            result.tests_passed += 1
                            progress.on_test_pass(capability, check.__name__)
                    result.passed = result.tests_failed == 0
                progress.on_capability_end(capability, result)
            report.results[capability] = result
    return report
