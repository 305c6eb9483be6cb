"""Run real ``ansible-playbook`` / ``ansible`` processes against the emulator and collect their results."""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.parse
import subprocess
import sys
from pathlib import Path

import yaml

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import KEY, MAIN_ACCOUNT, TOKEN

HERE = Path(__file__).resolve().parent
ANSIBLE_BIN = Path(sys.executable).parent
PROCESS_TIMEOUT = 240
# Every run is made at -vvvv, and its output and recorded results are scanned for every secret it was given.
DEFAULT_VERBOSITY = 4
# EDGEOPS_E2E_PATH=module runs every task through the module path (the in-process path is the default);
# the runner sets the collection's documented switch for the inventory's host.
MODULE_PATH = os.environ.get("EDGEOPS_E2E_PATH", "in-process") == "module"


def host_vars(**extra):
    """The inventory variables of the runner's localhost (and of other runners' hosts)."""
    variables = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    if MODULE_PATH:
        variables["edgeops_cloudflare_in_process"] = False
    variables.update(extra)
    return variables


SECRET_OPTIONS = ("api_token", "api_key")
SECRET_VARIABLES = ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "TEST_API_KEY")


def secret_forms(secret):
    """The ways a secret could leak: as is, URL-encoded, base64 (as in a Basic auth header), escaped as Python's
    repr or JSON would show it, and (for a secret with control characters) each piece between them of 6+
    characters."""
    forms = {
        secret,
        urllib.parse.quote(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
        secret.encode("unicode_escape").decode("ascii"),
        json.dumps(secret)[1:-1],
    }
    forms |= {piece for piece in re.split(r"[\x00-\x1f\x7f]+", secret) if len(piece) >= 6}
    return forms


def secrets_in(value):
    """Values of api_token/api_key anywhere in a task structure."""
    if isinstance(value, dict):
        found = {v for k, v in value.items() if k in SECRET_OPTIONS and isinstance(v, str) and v.strip()}
        return found.union(*(secrets_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(secrets_in(v) for v in value))
    return set()


class Run:
    """One finished ansible process: exit code, output, and each task result recorded by the callback."""

    def __init__(self, completed, results):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.results = results

    @property
    def output(self):
        return self.stdout + self.stderr

    def task(self, name):
        matches = [r for r in self.results if r["task"] == name]
        assert len(matches) == 1, f"expected one result for task {name!r}, got {len(matches)}:\n{self.output}"
        return matches[0]

    @property
    def last(self):
        assert self.results, "no task result recorded:\n" + self.output
        return self.results[-1]


class AnsibleRunner:
    """Builds playbooks in a temporary directory and runs them with credentials for the emulator."""

    def __init__(self, workdir, emulator, collections_path):
        self.workdir = Path(workdir)
        self.emulator = emulator
        self.collections_path = collections_path
        self.count = 0
        self.secrets = {TOKEN, KEY}
        self.scans = 0
        self.inventory = self.workdir / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": host_vars()}}}))

    def environment(self, auth="env", extra=None):
        env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDFLARE_")}
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": str(self.collections_path),
                "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
                "ANSIBLE_CALLBACKS_ENABLED": "record_results",
                "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                # The runner's inventories are YAML: loading that inventory plugin alone saves every process
                # about 0.07 s of CPU (the others' documentation is parsed at start-up).
                "ANSIBLE_INVENTORY_ENABLED": "yaml",
                "ANSIBLE_LOCAL_TEMP": str(self.workdir / "tmp"),
                # The module processes of this runner are the ones whose command line holds this path.
                "ANSIBLE_REMOTE_TEMP": str(self.workdir / "remote-tmp"),
                "ANSIBLE_HOME": str(self.workdir / "ansible-home"),
                # async_wrapper expands ~ from $HOME, async_status from the user's passwd entry: a
                # $HOME elsewhere (a CI job's) would make an async task's job file not found.
                "ANSIBLE_ASYNC_DIR": str(self.workdir / "async"),
                "PATH": "{}{}{}".format(ANSIBLE_BIN, os.pathsep, os.environ.get("PATH", "")),
            }
        )
        if auth == "env":
            env.update(
                {
                    "CLOUDFLARE_API_TOKEN": TOKEN,
                    "CLOUDFLARE_ACCOUNT_ID": MAIN_ACCOUNT,
                    "CLOUDFLARE_BASE_URL": self.emulator.base_url,
                }
            )
        env.update(extra or {})
        return env

    def _execute(self, command, env, secrets=()):
        self.count += 1
        results_file = self.workdir / (f"results-{self.count}.jsonl")
        env = dict(env, RECORD_RESULTS_FILE=str(results_file))
        completed = subprocess.run(
            command, env=env, cwd=self.workdir, capture_output=True, text=True, timeout=PROCESS_TIMEOUT, check=False
        )
        recorded = results_file.read_text() if results_file.exists() else ""
        self.secrets |= set(secrets) | {env[name] for name in SECRET_VARIABLES if env.get(name)}
        self.assert_no_secret_in(completed.stdout + completed.stderr + recorded, f"the output of {command[0]}")
        return Run(completed, [json.loads(line) for line in recorded.splitlines()])

    def assert_no_secret_in(self, text, where):
        self.scans += 1
        for secret in self.secrets:
            for form in secret_forms(secret):
                assert form not in text, f"a secret ({secret[:3]}...) leaked into {where}"

    def _playbook_command(
        self, tasks, check=False, diff=False, verbosity=DEFAULT_VERBOSITY, extra_vars=None, play=None
    ):
        self.count += 1
        path = self.workdir / (f"playbook-{self.count}.yml")
        play_spec = {"name": "test", "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}
        play_spec.update(play or {})
        path.write_text(yaml.safe_dump([play_spec], sort_keys=False))
        command = [str(ANSIBLE_BIN / "ansible-playbook"), "-i", str(self.inventory), str(path)]
        command += ["--check"] if check else []
        command += ["--diff"] if diff else []
        command += ["-" + "v" * verbosity] if verbosity else []
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        return command, secrets_in([play_spec, extra_vars])

    def playbook(self, *tasks, auth="env", env=None, **options):
        """Run one play on localhost with ``tasks``; ``auth="env"`` provides emulator credentials via environment.

        ``options``: check, diff, verbosity (default -vvvv), extra_vars, play (overrides of the play's keys).
        """
        command, secrets = self._playbook_command(tasks, **options)
        return self._execute(command, self.environment(auth, env), secrets)

    def playbook_file(self, path, extra_vars=None, check=False, env=None):
        """Run a playbook file as it is written (credentials for the emulator from the environment)."""
        command = [
            str(ANSIBLE_BIN / "ansible-playbook"),
            "-i",
            str(self.inventory),
            str(path),
            "-" + "v" * DEFAULT_VERBOSITY,
        ]
        command += ["--check"] if check else []
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        return self._execute(command, self.environment("env", env))

    def start_playbook(self, *tasks, new_session=False, **options):
        """Start a playbook in the background (emulator credentials from the environment); ``finish()`` collects it.

        ``new_session``: in a process group of its own, as a terminal's foreground job is (for Ctrl-C tests).
        """
        command, secrets = self._playbook_command(tasks, **options)
        self.secrets |= secrets
        env = dict(self.environment(), RECORD_RESULTS_FILE=str(self.workdir / (f"background-{self.count}.jsonl")))
        return subprocess.Popen(
            command,
            env=env,
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=new_session,
        )

    def run_processes(self):
        """Pids of the processes this runner started that still run: ansible-playbook, its workers (which run the
        modules' code in process), and module processes (their command line holds the remote temp dir)."""
        marker = str(self.workdir).encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker in cmdline:
                pids.append(int(entry.name))
        return pids

    def finish(self, process):
        """Wait for a background playbook; return (exit code, output), its output scanned for secrets."""
        output = process.communicate(timeout=PROCESS_TIMEOUT)[0]
        self.assert_no_secret_in(output, "the output of a background ansible-playbook")
        return process.returncode, output

    def adhoc(self, module, args, check=False, diff=False, verbosity=DEFAULT_VERBOSITY, auth="env", env=None):
        """Run ``ansible localhost -m module -a args`` (args: a dict sent as JSON, or a k=v string)."""
        command = [
            str(ANSIBLE_BIN / "ansible"),
            "localhost",
            "-i",
            str(self.inventory),
            "-m",
            module,
            "-a",
            args if isinstance(args, str) else json.dumps(args),
        ]
        command += ["--check"] if check else []
        command += ["--diff"] if diff else []
        command += ["-" + "v" * verbosity] if verbosity else []
        return self._execute(command, self.environment(auth, env), secrets_in(args))
