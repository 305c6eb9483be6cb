"""The live suite's wiring: refuse before any request, name every share with the run prefix, always clean up.

- Refusal: when the session starts (before the suite is collected, so before anything could run), the settings
  are read from the environment (kit.read_settings); any missing or invalid one ends the session with one line
  per variable (exit status 4).
- The suite runs only when tests/live is named on the command line (``pytest tests/live``); a wider run that
  happens to collect it (``pytest tests``) deselects it and says so.
- Cleanup: the session fixture ``live_session`` deletes every active sent share whose name starts with this run's
  prefix when the session ends, whether it passed, failed or was interrupted (Ctrl-C; SIGTERM and SIGHUP are
  turned into an interruption), with atexit as the last resort. It first waits (bounded) for module processes of
  this run that are still finishing a request, so that nothing lands after it has looked.
- Steps: the tests of test_live.py build on each other; once one fails, the later ones are skipped and say which.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from ansible_collections.edgeops.cloudflare.tests.live import kit
from ansible_collections.edgeops.cloudflare.tests.live.live_runner import LiveRunner

LIVE_DIR = Path(__file__).resolve().parent
REFUSED_EXIT_STATUS = 4
# An interrupted module process sends nothing more, but finishes a request in flight: at most its timeout (30 s).
MODULE_EXIT_WAIT_SECONDS = 90.0
CLEANUP_TIME_LIMIT = 180.0
HANDLED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
SETTINGS_KEY = pytest.StashKey()
FAILED_STEP_KEY = pytest.StashKey()


def _in_live_dir(path):
    path = Path(path).resolve()
    return path == LIVE_DIR or LIVE_DIR in path.parents


def _named_on_command_line(config):
    return any(_in_live_dir(Path(config.invocation_params.dir, arg.split("::", 1)[0])) for arg in config.args)


def _say(config, text):
    """Print at once, past pytest's output capture (also from fixtures and finalizers)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        print(text, file=sys.__stderr__, flush=True)
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.ensure_newline()
        for line in text.splitlines():
            reporter.write_line(line)
        reporter.flush()


def _read_settings_or_exit(config):
    """The settings and a new run prefix, stashed; or the refusal, printed, and the end of the session."""
    if SETTINGS_KEY in config.stash:
        return
    settings, problems = kit.read_settings(os.environ)
    if problems:
        _say(config, kit.refusal(problems, "live tests"))
        pytest.exit("live tests refused (see the lines above); nothing was sent", returncode=REFUSED_EXIT_STATUS)
    prefix = kit.new_run_prefix()
    config.stash[SETTINGS_KEY] = (settings, prefix)
    _say(
        config,
        f"live run: prefix {prefix}; account {settings.account_id}, recipient {settings.recipient_account_id}, "
        f"{settings.auth_scheme} at {settings.base_url}; wait_timeout {settings.wait_timeout:d} s",
    )


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session):
    yield  # pytest's header first
    # Named on the command line: refuse at once, before the suite is even collected.
    if _named_on_command_line(session.config):
        _read_settings_or_exit(session.config)


def pytest_collection_modifyitems(session, config, items):
    live = [item for item in items if _in_live_dir(item.path)]
    if not live:
        return
    if not _named_on_command_line(config):
        items[:] = [item for item in items if item not in live]
        config.hook.pytest_deselected(items=live)
        _say(
            config,
            f"tests/live: {len(live)} live tests deselected: they run only when tests/live is named "
            "(pytest tests/live, make test-live)",
        )
        return
    _read_settings_or_exit(config)
    settings = config.stash[SETTINGS_KEY][0]
    # Each step runs one playbook, bounded by its own time limit; this is the backstop above it.
    step_limit = LiveRunner.time_limit([{"wait": True}] * 6, settings.wait_timeout) + 60
    for item in live:
        item.add_marker(pytest.mark.timeout(step_limit))


class LiveSession:
    """This run's prefix and settings, and the cleanup that deletes what the run made (at most once)."""

    def __init__(self, config, settings, prefix, runner):
        self.config = config
        self.settings = settings
        self.runner = runner
        self.prefix = prefix
        self.report = None
        self._lock = threading.Lock()
        self._previous_handlers = {}

    def name(self, what):
        return self.prefix + what

    # --- interruption -----------------------------------------------------------------------------------------

    def _interrupt(self, signum, _frame):
        # pytest then unwinds as for Ctrl-C: the running ansible-playbook is stopped, fixtures are torn down.
        raise KeyboardInterrupt(f"{signal.Signals(signum).name} received")

    def install_handlers(self):
        for signum in HANDLED_SIGNALS:
            self._previous_handlers[signum] = signal.signal(signum, self._interrupt)
        atexit.register(self.cleanup_at_exit)

    def restore_handlers(self):
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers.clear()

    # --- cleanup ----------------------------------------------------------------------------------------------

    def _wait_for_module_processes(self):
        deadline = time.monotonic() + MODULE_EXIT_WAIT_SECONDS
        while self.runner.run_processes() and time.monotonic() < deadline:
            time.sleep(0.2)  # polls /proc; bounded by the deadline
        return self.runner.run_processes()

    def cleanup(self, say):
        """Delete every active sent share named with this run's prefix; report; runs once."""
        with self._lock:
            if self.report is not None:
                return self.report
            signals = (signal.SIGINT, *HANDLED_SIGNALS)
            previous = {signum: signal.getsignal(signum) for signum in signals}
            for signum in signals:
                signal.signal(
                    signum,
                    lambda *_args: say(
                        f"live cleanup in progress (at most {int(MODULE_EXIT_WAIT_SECONDS + CLEANUP_TIME_LIMIT)} s); "
                        "it finishes first"
                    ),
                )
            try:
                lingering = self._wait_for_module_processes()
                if lingering:
                    say(
                        f"live cleanup: module processes {lingering} still running after {int(MODULE_EXIT_WAIT_SECONDS)} s; "
                        "cleaning up anyway"
                    )
                self.report = kit.delete_prefixed(self.settings, self.prefix, time_limit=CLEANUP_TIME_LIMIT)
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
            say("\n".join(self.report.lines()))
            return self.report

    def cleanup_at_exit(self):
        if self.report is None:
            self.cleanup(lambda text: print(text, file=sys.__stderr__, flush=True))


def _settings_and_prefix(config):
    found = config.stash.get(SETTINGS_KEY, None)
    if found is None:  # only when the refusal hook did not run: never send anything then
        pytest.exit("live tests: no settings were read (run pytest on tests/live)", returncode=REFUSED_EXIT_STATUS)
    return found


@pytest.fixture(scope="session")
def live_settings(request):
    return _settings_and_prefix(request.config)[0]


@pytest.fixture(scope="session")
def live_runner(tmp_path_factory, live_settings, collections_path):
    return LiveRunner(tmp_path_factory.mktemp("live"), live_settings, collections_path)


@pytest.fixture(scope="session", autouse=True)
def live_session(request, live_settings, live_runner):
    """The run: its prefix; cleanup when the session ends, however it ends."""
    config = request.config
    session = LiveSession(config, live_settings, _settings_and_prefix(config)[1], live_runner)
    session.install_handlers()
    try:
        yield session
    finally:
        try:
            report = session.cleanup(lambda text: _say(config, text))
        finally:
            session.restore_handlers()
        _say(config, f"live run: the output of every ansible-playbook run is in {live_runner.workdir}")
        if not report.ok:
            pytest.fail("the live cleanup left shares behind (listed above)", pytrace=False)


# --- steps that depend on each other ------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and _in_live_dir(item.path) and FAILED_STEP_KEY not in item.config.stash:
        item.config.stash[FAILED_STEP_KEY] = item.name
    return report


def pytest_runtest_setup(item):
    failed = item.config.stash.get(FAILED_STEP_KEY, None)
    if failed is not None and _in_live_dir(item.path):
        pytest.skip(f"not run: the earlier step {failed} failed, and this step builds on what it should have made")
