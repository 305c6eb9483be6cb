# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checks of edgeops.cloudflare: `nox -l` lists them, `nox -s NAME` runs one.

antsibull-nox (antsibull-nox.toml) adds lint, ansible-lint, docs-check and extra-checks.
`nox -s test` runs every session of TEST_SESSIONS (`make test`: three at a time).
Versions: tests/requirements/ (matrix.txt: which ansible-core on which Python).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import NamedTuple

import antsibull_nox
import nox
from antsibull_nox.sessions import prepare_collections

antsibull_nox.load_antsibull_nox_toml()
nox.options.default_venv_backend = "uv|virtualenv"
# uv writes no .pyc by default; with PYTHONDONTWRITEBYTECODE set (as on CI), every ansible process
# would then compile ansible-core anew (about 0.5 s each, hundreds of processes per e2e session).
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")

ROOT = Path(__file__).resolve().parent
REQ = ROOT / "tests" / "requirements"
PRIMARY_PYTHON = "3.12"  # the primary env: ansible-core of dev.txt (= the newest row) and ecosystem.txt
# Suites run once, on the primary env: they drive module_utils in-process (hundreds of converges),
# need ansible-runner/ansible-builder (ecosystem.txt), or prove the live-test kit, which runs on the
# primary env (nox -s test-live).
PRIMARY_ONLY = [
    "tests/e2e/test_fault_matrix.py",
    "tests/e2e/test_convergence_property.py",
    "tests/e2e/test_export_property.py",
    "tests/e2e/test_awx_runner.py",
    "tests/e2e/test_execution_environment.py",
    "tests/e2e/test_live_kit.py",
]
# Suites run on the newest row only (and there, with every other suite but PRIMARY_ONLY): they
# exercise module_utils logic (the documented examples and the export included), which the
# integration targets (share, share_info, share_recipient, share_resource, shares) drive through
# ansible-core on every row and the unit tests cover on every row's Python.
NEWEST_ONLY = [
    "tests/e2e/test_share.py",
    "tests/e2e/test_share_info.py",
    "tests/e2e/test_share_parts.py",
    "tests/e2e/test_shares_bulk.py",
    "tests/e2e/test_request_counts.py",
    "tests/e2e/test_reference_edges.py",
    "tests/e2e/test_examples.py",
    "tests/e2e/test_export.py",
    "tests/e2e/test_retries_and_races.py",
]
# Suites that choose the execution path of every task themselves, both paths each: e2e-module-* leave them out,
# as forcing the module path would only run them again.
BOTH_PATHS = ["tests/e2e/test_execution_path.py", "tests/e2e/test_interrupt.py"]
# The module-path run is the longest job of `make test`: it runs in two halves, e2e-module-1 (these suites) and
# e2e-module-2 (the rest), so that two sessions at a time can share it out evenly.
MODULE_FIRST_HALF = [
    "tests/e2e/test_share.py",
    "tests/e2e/test_share_info.py",
    "tests/e2e/test_share_parts.py",
    "tests/e2e/test_examples.py",
    "tests/e2e/test_export.py",
    "tests/e2e/test_request_counts.py",
]
CODE = ["plugins", "tests", "bench", "scripts", "noxfile.py"]
# What `ansible-test sanity` checks on the older rows: the collection's content (plugins, role, metadata, docs,
# changelog, integration targets). The newest row checks the whole tree: the lint of the test code, the bench and
# the tooling does not depend on the ansible-core that runs them.
CONTENT = ["plugins/", "roles/", "meta/", "changelogs/", "docs/", "tests/integration/"]


class Row(NamedTuple):
    """One line of matrix.txt."""

    name: str
    python: str
    core: str


def read_matrix() -> list[Row]:
    lines = (line.split("#", 1)[0].split() for line in (REQ / "matrix.txt").read_text().splitlines())
    return [Row(*fields) for fields in lines if fields]


MATRIX = read_matrix()
NEWEST = MATRIX[-1]


def link_pythons() -> None:
    """Put every Python in use on PATH as pythonX.Y (real interpreters: nox and ansible-test look them up)."""
    bindir = ROOT / ".nox" / "python-bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for version in sorted({PRIMARY_PYTHON, *(row.python for row in MATRIX)}):
        found = subprocess.run([ROOT / "scripts" / "find-python", version], capture_output=True, text=True, check=False)
        link = bindir / f"python{version}"
        if found.returncode:
            print(found.stderr.strip(), file=sys.stderr)
        elif not link.is_symlink() or os.readlink(link) != found.stdout.strip():
            link.unlink(missing_ok=True)
            link.symlink_to(found.stdout.strip())
    os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"


link_pythons()


def install_row(session: nox.Session, core: str, *requirements: str) -> None:
    """ansible-core==core plus the given requirements, at dev.txt's versions (its ansible-core pin aside)."""
    constraints = Path(session.create_tmp()) / "constraints.txt"
    dev = (REQ / "dev.txt").read_text().splitlines(keepends=True)
    constraints.write_text("".join(line for line in dev if not line.startswith("ansible-core==")))
    session.install(f"ansible-core=={core}", *requirements, "-c", str(constraints))


def ansible_test(session: nox.Session, row: Row, command: str, *defaults: str) -> None:
    """`ansible-test COMMAND --venv` in a copy of the checkout at .../ansible_collections/edgeops/cloudflare,
    with the session's arguments (`nox -s NAME -- ARGS`) or else `defaults`."""
    install_row(session, row.core, "pip")  # the bootstrap runs `pip download`
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))  # nox's own, beside it in .venv-nox
    session.run("python", str(ROOT / "scripts" / "ansible-test-bootstrap.py"), *(["--uv", uv] if uv else []))
    tree = prepare_collections(
        session, ansible_core_version=row.core, install_in_site_packages=False, install_out_of_tree=True
    )
    if tree is None:
        session.error("no collection tree")
    with session.chdir(tree.current_path):
        session.run(
            "ansible-test", command, "--venv", "--python", row.python, "--color", "no", *(session.posargs or defaults)
        )


def collections_path() -> str:
    """.build/collections, in which ansible_collections/edgeops/cloudflare links to this checkout."""
    link = ROOT / ".build" / "collections" / "ansible_collections" / "edgeops" / "cloudflare"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        with contextlib.suppress(FileExistsError):  # another session made it meanwhile
            link.symlink_to(ROOT, target_is_directory=True)
    return str(link.parents[2])


def pytest(session: nox.Session, *args: str, env: dict[str, str] | None = None) -> None:
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--basetemp={session.create_tmp()}/pytest",
        *args,
        *session.posargs,
        env=env,
    )


for ROW in MATRIX:

    @nox.session(name=f"sanity-{ROW.name}", python=ROW.python, default=False)
    def sanity(session: nox.Session, row: Row = ROW) -> None:
        """ansible-test sanity --venv, with no ignore file (older rows: the content, CONTENT, not the test code)."""
        ignores = [
            str(path)
            for path in (ROOT / "tests" / "sanity").glob("ignore-*.txt")
            if any(line.strip() and not line.startswith("#") for line in path.read_text().splitlines())
        ]
        if ignores:
            session.error(f"sanity must pass without ignores: {', '.join(ignores)}")
        ansible_test(session, row, "sanity", *([] if row == NEWEST else CONTENT))

    @nox.session(name=f"units-{ROW.name}", python=ROW.python, default=False)
    def units(session: nox.Session, row: Row = ROW) -> None:
        """ansible-test units --venv (tests/unit, with tests/unit/requirements.txt)."""
        # One pytest worker: make test runs three sessions on two cores, and a second worker only imports again.
        ansible_test(session, row, "units", "--num-workers", "1")

    @nox.session(name=f"integration-{ROW.name}", python=ROW.python, default=False)
    def integration(session: nox.Session, row: Row = ROW) -> None:
        """ansible-test integration --venv: tests/integration/targets against the emulator."""
        ansible_test(session, row, "integration")

    def e2e_row(session: nox.Session, row: Row = ROW) -> None:
        install_row(session, row.core, "-r", str(REQ / "matrix-tests.txt"))
        skipped = PRIMARY_ONLY + (NEWEST_ONLY if row != NEWEST else [])
        pytest(session, "tests/e2e", *(f"--ignore={path}" for path in skipped))

    e2e_row.__doc__ = (
        "pytest tests/e2e, all but the primary-only suites"
        if ROW == NEWEST
        else "pytest tests/e2e, all but the primary-only and newest-only suites"
    )
    nox.session(name=f"e2e-{ROW.name}", python=ROW.python, default=False)(e2e_row)


@nox.session(python=PRIMARY_PYTHON, default=False)
def unit(session: nox.Session) -> None:
    """pytest tests/unit on the primary env: a quick run while coding (make test runs units-<row> instead)."""
    session.install("-r", str(REQ / "dev.txt"))
    pytest(session, "tests/unit")


@nox.session(name="emulator-contract", python=PRIMARY_PYTHON)
def emulator_contract(session: nox.Session) -> None:
    """pytest tests/emulator tests/contract: the emulator, checked with the official cloudflare SDK."""
    session.install("-r", str(REQ / "dev.txt"))
    pytest(session, "tests/emulator", "tests/contract")


@nox.session(name="e2e-primary", python=PRIMARY_PYTHON, default=False)
def e2e_primary(session: nox.Session) -> None:
    """pytest of the primary-only e2e suites: fault matrix, properties, AWX runner, EE, live-test kit."""
    session.install("-r", str(REQ / "ecosystem.txt"))
    pytest(session, *PRIMARY_ONLY)


def e2e_module(session: nox.Session, *arguments: str) -> None:
    session.install("-r", str(REQ / "dev.txt"))
    pytest(session, *arguments, env={"EDGEOPS_E2E_PATH": "module"})


@nox.session(name="e2e-module-1", python=PRIMARY_PYTHON, default=False)
def e2e_module_1(session: nox.Session) -> None:
    """pytest of the e2e suites in MODULE_FIRST_HALF, every task on the module path (AnsiballZ)."""
    e2e_module(session, *MODULE_FIRST_HALF)


@nox.session(name="e2e-module-2", python=PRIMARY_PYTHON, default=False)
def e2e_module_2(session: nox.Session) -> None:
    """pytest tests/e2e but the primary-only, both-paths and e2e-module-1 suites, every task on the module path."""
    skipped = PRIMARY_ONLY + BOTH_PATHS + MODULE_FIRST_HALF
    e2e_module(session, "tests/e2e", *(f"--ignore={path}" for path in skipped))


@nox.session(python=PRIMARY_PYTHON)
def changelog(session: nox.Session) -> None:
    """antsibull-changelog lint, and a trial release of galaxy.yml's version in a copy."""
    session.install("-r", str(REQ / "lint.txt"))
    session.run("bash", str(ROOT / "scripts" / "changelog"), str(session.create_tmp()), external=True)


@nox.session(name="changelog-release", python=PRIMARY_PYTHON, default=False)
def changelog_release(session: nox.Session) -> None:
    """The real release: `nox -s changelog-release -- VERSION`, then commit changelogs/ and CHANGELOG.rst."""
    session.install("-r", str(REQ / "lint.txt"))
    session.run(
        "antsibull-changelog",
        "release",
        "--reload-plugins",
        "--version",
        *session.posargs,
        env={"ANSIBLE_COLLECTIONS_PATH": collections_path()},
    )


@nox.session(python=PRIMARY_PYTHON)
def docs(session: nox.Session) -> None:
    """The HTML site (module pages and docs/docsite guides) with Sphinx, warnings are errors."""
    session.install("-r", str(REQ / "docs-venv.txt"))
    session.run("bash", str(ROOT / "scripts" / "build-docs"), external=True)


# Ours rather than antsibull-nox's build-import-check, which only warns about galaxy-importer's ERROR lines and
# ignores its warnings: this one fails on either, and checks what the tarball holds.
@nox.session(name="build-import-check", python=PRIMARY_PYTHON)
def build_import_check(session: nox.Session) -> None:
    """Build the tarball, check its files, run galaxy-importer: no error, no warning, ansible-doc and ansible-lint ran."""
    session.install("-r", str(REQ / "galaxy-importer.txt"))
    out = Path(session.create_tmp()).resolve() / "galaxy"
    session.run("rm", "-rf", str(out), external=True)
    out.mkdir()
    session.run("ansible-galaxy", "collection", "build", "--output-path", str(out), str(ROOT))
    (tarball,) = out.glob("edgeops-cloudflare-*.tar.gz")
    check_tarball(session, tarball)
    config = out / "galaxy-importer.cfg"
    # The import runs in the system's temporary directory, outside this checkout, as on Galaxy.
    config.write_text(
        "[galaxy-importer]\nRUN_ANSIBLE_DOC = True\nRUN_ANSIBLE_LINT = True\nOFFLINE_ANSIBLE_LINT = True\n"
        "CHECK_CHANGELOG = True\nRUN_ANSIBLE_TEST = False\n"
    )
    # Its ansible-lint caches (and at the end deletes) mock modules in $ANSIBLE_HOME: a private one, or it would
    # pull awx.awx's mocks from under the ansible-lint session running beside it.
    with session.chdir(out):
        log = session.run(
            "python",
            "-m",
            "galaxy_importer.main",
            tarball.name,
            silent=True,
            env={"GALAXY_IMPORTER_CONFIG": str(config), "ANSIBLE_HOME": str(out / "ansible-home")},
        )
    print(log)
    problems = [line for line in log.splitlines() if line.startswith(("ERROR", "WARNING", "CRITICAL"))]
    needles = (
        "Getting doc strings via ansible-doc",
        "Linting collection via ansible-lint",
        "...ansible-lint run complete",
        "Importer processing completed successfully",
    )
    problems += [f"the log lacks {needle!r}" for needle in needles if needle not in log]
    if problems:
        session.error("galaxy-importer:\n" + "\n".join(problems))
    session.log("galaxy-importer: ansible-doc and ansible-lint ran; no error, no warning")


DEV_ONLY = [
    ".venv*",
    ".nox",
    ".build",
    ".ci",
    ".git*",
    ".*cache",
    ".hypothesis",
    ".pre-commit-config.yaml",
    ".yamllint*",
    "scripts",
    "bench",
    "Makefile",
    "noxfile.py",
    "antsibull-nox.toml",
    "pyproject.toml",
    "tests/output",
    "tests/integration/inventory",
    "*.tar.gz",
    "*.pyc",
    "__pycache__",
    "*.retry",
    "*.log",
]


def check_tarball(session: nox.Session, tarball: Path) -> None:
    """Nothing dev-only in the tarball; every file of plugins/, roles/, docs/, meta/ in it."""
    with tarfile.open(tarball) as archive:
        members = {name.rstrip("/") for name in archive.getnames()}
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "plugins", "roles", "docs", "meta"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    required = ["MANIFEST.json", "FILES.json", "README.md", "COPYING", "changelogs/changelog.yaml", *tracked]
    problems = [f"missing: {name}" for name in required if name not in members]
    for name in sorted(members):
        prefixes = ["/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 2)]
        if any(fnmatch.fnmatch(part, pattern) for part in prefixes + name.split("/") for pattern in DEV_ONLY):
            problems.append(f"dev-only: {name}")
    if problems:
        session.error(f"{tarball.name}:\n" + "\n".join(problems))
    session.log(f"{tarball.name}: {len(members)} entries, no dev-only file")


def readme_table() -> str:
    """The README's "Tested with" table, from matrix.txt."""
    rows = [
        f"| {row.core} | {row.python} | `ansible-test sanity`{'' if row == NEWEST else ' (of the content, not the test code)'}, "
        f"`units` and `integration` (`--venv`); pytest e2e "
        f"(all but the primary-only{'' if row == NEWEST else ' and newest-only'} suites) |"
        for row in MATRIX
    ]
    return "\n".join(
        [
            "| ansible-core | Python (controller and modules) | what `make test` runs on it |",
            "| --- | --- | --- |",
            *rows,
            f"| {NEWEST.core} | {PRIMARY_PYTHON} (the primary env) | emulator and SDK "
            "contract tests; the primary-only e2e suites; pytest e2e (all but the primary-only and both-paths suites) "
            "with every task on the module path; lint, format, docs, changelog and galaxy-importer checks |",
        ]
    )


@nox.session(python=False)
def matrix(session: nox.Session) -> None:
    """matrix.txt is well formed, dev.txt pins its newest ansible-core, README.md shows it (`-- --print`)."""
    if "--print" in session.posargs:
        print(readme_table())
        return
    problems = []
    for row in MATRIX:
        if not row.core.startswith(row.name + ".") or row.core.count(".") != 2 or not row.python.startswith("3."):
            problems.append(f"matrix.txt: bad row {' '.join(row)}")
    if f"ansible-core=={NEWEST.core}\n" not in (REQ / "dev.txt").read_text():
        problems.append(f"dev.txt must pin ansible-core=={NEWEST.core}, the newest row of matrix.txt")
    if readme_table() not in (ROOT / "README.md").read_text():
        problems.append(
            "README.md does not show matrix.txt; it should contain (nox -s matrix -- --print):\n" + readme_table()
        )
    if problems:
        session.error("\n".join(problems))
    session.log(f"matrix: {', '.join(f'{row.core} on Python {row.python}' for row in MATRIX)}; README.md agrees")


@nox.session(name="format", python=PRIMARY_PYTHON, default=False)
def format_check(session: nox.Session) -> None:
    """ruff format --check --diff of the Python code (fix: .nox/format/bin/ruff format)."""
    session.install("ruff", "-c", str(REQ / "lint.txt"))
    session.run("ruff", "format", "--check", "--diff", *CODE, *session.posargs)


@nox.session(python=PRIMARY_PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Build and install the tarball, run docs/examples/demo.yml against the emulator: changed, ok, check+diff."""
    session.install("ansible-core", "-c", str(REQ / "dev.txt"))
    session.run("bash", str(ROOT / "scripts" / "demo"), external=True)


@nox.session(name="test-live", python=PRIMARY_PYTHON, default=False)
def test_live(session: nox.Session) -> None:
    """tests/live against the real Cloudflare API (tests/live/README.md: the variables it needs)."""
    session.install("-r", str(REQ / "dev.txt"))
    pytest(session, "tests/live")


@nox.session(name="test-live-sweep", python=PRIMARY_PYTHON, default=False)
def test_live_sweep(session: nox.Session) -> None:
    """Delete the edgeops-live-* shares of earlier live runs (`-- --dry-run` lists them)."""
    session.install("-r", str(REQ / "dev.txt"))
    session.run("python", "tests/live/sweep.py", *session.posargs)


@nox.session(python=PRIMARY_PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """bench/bench.py (docs/docsite/rst/guide_performance.rst); `nox -s bench -- --quick` for a short run."""
    session.install("-r", str(REQ / "dev.txt"))
    session.run("python", "bench/bench.py", *session.posargs)


# `make test` = `nox --parallel 3 --allow-parallel -s test`: these sessions, longest first, three at a time.
TEST_SESSIONS = [
    f"e2e-{NEWEST.name}",
    "e2e-module-2",
    "e2e-module-1",
    "e2e-primary",
    *(f"e2e-{row.name}" for row in MATRIX[:-1]),
    *(f"sanity-{row.name}" for row in reversed(MATRIX)),  # the newest checks the whole tree
    *(f"integration-{row.name}" for row in MATRIX),
    "build-import-check",
    *(f"units-{row.name}" for row in MATRIX),
    "emulator-contract",
    "docs-check",
    "ansible-lint",
    "docs",
    "changelog",
    "lint",
    "format",
    "extra-checks",
    "matrix",
]


@nox.session(python=False, default=False, requires=TEST_SESSIONS)
def test(session: nox.Session) -> None:
    """Everything `make test` runs (TEST_SESSIONS); with `--parallel 3 --allow-parallel`, three at a time."""
    session.log(f"all {len(TEST_SESSIONS)} sessions passed")
