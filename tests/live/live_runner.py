"""The end-to-end runner (tests/e2e/runner.py), pointed at whatever API the live settings name.

Real ``ansible-playbook`` processes at -vvvv, each task's result recorded by the e2e callback, every output scanned
for the credentials. Differences from the e2e runner: the credentials, account and API root come from the live
settings (not the emulator); a leaked secret is reported without showing any part of it; every run's output is kept
in the run's directory, and a failed step names that file.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess

from ansible_collections.edgeops.cloudflare.tests.e2e.runner import SECRET_VARIABLES, AnsibleRunner, Run, secret_forms

OUTPUT_TAIL_CHARS = 3000
# A playbook may take: its start, each task's requests (30 s time-out each, retries), and every wait it asks for.
BASE_SECONDS = 120
SECONDS_PER_TASK = 90
# After an interruption, ansible-playbook and its module processes get a SIGINT (as Ctrl-C gives them), then this
# long to exit before a SIGKILL.
STOP_GRACE_SECONDS = 10


class SecretLeak(AssertionError):
    """A credential showed up in an output. The output is not shown, so the report cannot leak it further."""


class LiveRunner(AnsibleRunner):
    def __init__(self, workdir, settings, collections_path):
        super().__init__(workdir, None, collections_path)
        self.settings = settings
        self.secrets = set(settings.secrets)
        self._time_limit = BASE_SECONDS

    def environment(self, auth="env", extra=None):
        env = super().environment(auth="none")
        if auth == "env":
            env.update(self.settings.module_environment())
        env.update(extra or {})
        return env

    def assert_no_secret_in(self, text, where):
        self.scans += 1
        for secret in self.secrets:
            if any(form in text for form in secret_forms(secret)):
                raise SecretLeak(f"a credential leaked into {where}; that output is not shown")

    @staticmethod
    def time_limit(tasks, wait_timeout):
        """Seconds a playbook of ``tasks`` may run: bounded, and enough for every wait it asks for."""
        waits = sum(json.dumps(task).count('"wait": true') for task in tasks)
        return BASE_SECONDS + SECONDS_PER_TASK * len(tasks) + waits * wait_timeout

    def playbook(self, *tasks, **options):
        self._time_limit = self.time_limit(tasks, self.settings.wait_timeout)
        return super().playbook(*tasks, **options)

    def _execute(self, command, env, secrets=()):
        """As the e2e runner's, with a time limit that fits the live waits, and the output kept in a file.

        ansible-playbook runs in a process group of its own: when this process is interrupted (Ctrl-C, SIGTERM,
        SIGHUP, a time limit), the whole group gets a SIGINT, so that the module stops sending requests at once (a
        request in flight still finishes), and a SIGKILL if it is still there STOP_GRACE_SECONDS later.
        """
        # Numbered as the playbook file the e2e runner just wrote (playbook-N.yml, results-N.jsonl, run-N.log).
        results_file = self.workdir / (f"results-{self.count}.jsonl")
        env = dict(env, RECORD_RESULTS_FILE=str(results_file))
        process = subprocess.Popen(
            command,
            env=env,
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=self._time_limit)
        except BaseException:
            self._keep(command, self._stop(process), " (interrupted)")
            raise
        completed = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        recorded = results_file.read_text() if results_file.exists() else ""
        self.secrets |= set(secrets) | {env[name] for name in SECRET_VARIABLES if env.get(name)}
        self.assert_no_secret_in(completed.stdout + completed.stderr + recorded, f"the output of {command[0]}")
        run = Run(completed, [json.loads(line) for line in recorded.splitlines()])
        run.log = self._keep(command, run.output)
        return run

    def _keep(self, command, output, note=""):
        """Write a run's output (already scanned, or scanned here) to run-N.log; return its path."""
        log = self.workdir / (f"run-{self.count}.log")
        try:
            self.assert_no_secret_in(output, "the output of ansible-playbook")
        except SecretLeak:
            output = "(output not kept: a credential showed up in it)"
        log.write_text("$ {}{}\n\n{}".format(" ".join(command), note, output))
        return log

    @staticmethod
    def _stop(process):
        """SIGINT to the process group, then SIGKILL; the output so far."""
        for signum in (signal.SIGINT, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)
            try:
                stdout, stderr = process.communicate(timeout=STOP_GRACE_SECONDS)
                return (stdout or "") + (stderr or "")
            except subprocess.TimeoutExpired:
                continue
        return ""


def describe_failure(run, what):
    """A failed step's message: the failed task and its msg, where the full output is, and the output's end."""
    failed = [r for r in run.results if r["status"] == "failed"]
    lines = [f"{what}: ansible-playbook exit status {run.rc:d}"]
    for result in failed:
        lines.append("task {!r} failed: {}".format(result["task"], result["result"].get("msg")))
    lines.append("full output: {}".format(getattr(run, "log", "(not kept)")))
    lines.append("its end:\n" + run.output[-OUTPUT_TAIL_CHARS:])
    return "\n".join(lines)
