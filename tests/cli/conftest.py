"""A threadloom database with the demo's conversations, made once per test that asks."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("static_model")

from threadloom.cli.app import cli


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a file `threadloom demo` wrote (made once: copying is faster than replaying)."""
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--db", str(folder / "demo.db")])
    assert result.exit_code == 0, result.output
    return (folder / "demo.db").read_bytes()


@pytest.fixture
def demo_db(tmp_path: Path, demo_template: bytes) -> str:
    path = tmp_path / "demo.db"
    path.write_bytes(demo_template)
    return str(path)


@pytest.fixture
def run(demo_db: str):  # type: ignore[no-untyped-def]
    """Run `threadloom ARGS --db <demo file>`; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str, db: str | None = demo_db, stdin: str | None = None):  # type: ignore[no-untyped-def]
        full = [*args, "--db", db] if db is not None else list(args)
        return runner.invoke(cli, full, input=stdin)

    return invoke
