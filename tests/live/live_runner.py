"""The end-to-end runner (tests/e2e/runner.py), pointed at whatever API the live settings name.

Real ``ansible-playbook`` processes at -vvvv, each task's result recorded by the e2e callback, every output scanned
for the credentials. Differences from the e2e runner: the credentials, account and API root come from the live
settings (not the emulator); a leaked secret is reported without showing any part of it; every run's output is kept
in the run's directory, and a failed step names that file.
"""

from __future__ import annotations

import json
import subprocess

from ansible_collections.edgeops.cloudflare.tests.e2e.runner import SECRET_VARIABLES, AnsibleRunner, Run, secret_forms

OUTPUT_TAIL_CHARS = 3000
# A playbook may take: its start, each task's requests (30 s time-out each, retries), and every wait it asks for.
BASE_SECONDS = 120
SECONDS_PER_TASK = 90


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
                raise SecretLeak("a credential leaked into %s; that output is not shown" % where)

    @staticmethod
    def time_limit(tasks, wait_timeout):
        """Seconds a playbook of ``tasks`` may run: bounded, and enough for every wait it asks for."""
        waits = sum(json.dumps(task).count('"wait": true') for task in tasks)
        return BASE_SECONDS + SECONDS_PER_TASK * len(tasks) + waits * wait_timeout

    def playbook(self, *tasks, **options):
        self._time_limit = self.time_limit(tasks, self.settings.wait_timeout)
        return super().playbook(*tasks, **options)

    def _execute(self, command, env, secrets=()):
        """As the e2e runner's, with a time limit that fits the live waits, and the output kept in a file."""
        self.count += 1
        results_file = self.workdir / ("results-%d.jsonl" % self.count)
        env = dict(env, RECORD_RESULTS_FILE=str(results_file))
        completed = subprocess.run(command, env=env, cwd=self.workdir, capture_output=True, text=True,
                                   timeout=self._time_limit, check=False)
        recorded = results_file.read_text() if results_file.exists() else ""
        self.secrets |= set(secrets) | {env[name] for name in SECRET_VARIABLES if env.get(name)}
        self.assert_no_secret_in(completed.stdout + completed.stderr + recorded, "the output of %s" % command[0])
        run = Run(completed, [json.loads(line) for line in recorded.splitlines()])
        run.log = self.workdir / ("run-%d.log" % self.count)
        run.log.write_text("$ %s\n\n%s" % (" ".join(command), run.output))
        return run


def describe_failure(run, what):
    """A failed step's message: the failed task and its msg, where the full output is, and the output's end."""
    failed = [r for r in run.results if r["status"] == "failed"]
    lines = ["%s: ansible-playbook exit status %d" % (what, run.rc)]
    for result in failed:
        lines.append("task %r failed: %s" % (result["task"], result["result"].get("msg")))
    lines.append("full output: %s" % getattr(run, "log", "(not kept)"))
    lines.append("its end:\n" + run.output[-OUTPUT_TAIL_CHARS:])
    return "\n".join(lines)
