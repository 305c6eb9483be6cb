"""Run real ``ansible-playbook`` / ``ansible`` processes against the emulator and collect their results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from harness import MAIN_ACCOUNT, TOKEN

HERE = Path(__file__).resolve().parent
ANSIBLE_BIN = Path(sys.executable).parent
PROCESS_TIMEOUT = 240


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
        assert len(matches) == 1, "expected one result for task %r, got %d:\n%s" % (name, len(matches), self.output)
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
        self.inventory = self.workdir / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))

    def environment(self, auth="env", extra=None):
        env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDFLARE_")}
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections_path),
            "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": str(self.workdir / "tmp"),
            "ANSIBLE_HOME": str(self.workdir / "ansible-home"),
            "PATH": "%s%s%s" % (ANSIBLE_BIN, os.pathsep, os.environ.get("PATH", "")),
        })
        if auth == "env":
            env.update({
                "CLOUDFLARE_API_TOKEN": TOKEN,
                "CLOUDFLARE_ACCOUNT_ID": MAIN_ACCOUNT,
                "CLOUDFLARE_BASE_URL": self.emulator.base_url,
            })
        env.update(extra or {})
        return env

    def _execute(self, command, env):
        self.count += 1
        results_file = self.workdir / ("results-%d.jsonl" % self.count)
        env = dict(env, RECORD_RESULTS_FILE=str(results_file))
        completed = subprocess.run(command, env=env, cwd=self.workdir, capture_output=True, text=True,
                                   timeout=PROCESS_TIMEOUT, check=False)
        lines = results_file.read_text().splitlines() if results_file.exists() else []
        return Run(completed, [json.loads(line) for line in lines])

    def playbook(self, *tasks, check=False, diff=False, verbosity=0, auth="env", env=None, extra_vars=None, play=None):
        """Run one play on localhost with ``tasks``; ``auth="env"`` provides emulator credentials via environment."""
        self.count += 1
        path = self.workdir / ("playbook-%d.yml" % self.count)
        play_spec = {"name": "test", "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}
        play_spec.update(play or {})
        path.write_text(yaml.safe_dump([play_spec], sort_keys=False))
        command = [str(ANSIBLE_BIN / "ansible-playbook"), "-i", str(self.inventory), str(path)]
        command += ["--check"] if check else []
        command += ["--diff"] if diff else []
        command += ["-" + "v" * verbosity] if verbosity else []
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        return self._execute(command, self.environment(auth, env))

    def adhoc(self, module, args, check=False, diff=False, verbosity=0, auth="env", env=None):
        """Run ``ansible localhost -m module -a args`` (args: a dict sent as JSON, or a k=v string)."""
        command = [str(ANSIBLE_BIN / "ansible"), "localhost", "-i", str(self.inventory), "-m", module,
                   "-a", args if isinstance(args, str) else json.dumps(args)]
        command += ["--check"] if check else []
        command += ["--diff"] if diff else []
        command += ["-" + "v" * verbosity] if verbosity else []
        return self._execute(command, self.environment(auth, env))
