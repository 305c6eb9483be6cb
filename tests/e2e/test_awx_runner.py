"""An AWX-style job: ``ansible-runner`` (AWX's job engine) runs a playbook whose ``share`` task has no
credentials; the credential reaches the module only as environment variables in ``env/envvars``, rendered
from the documented custom credential type (docs/docsite/awx/credential_type.yml) as AWX renders a credential
type's injectors.

Needs ``ansible-runner`` (tests/requirements/ecosystem.txt).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.parse
from pathlib import Path

import jinja2.meta
import jinja2.sandbox
import pytest
import requests
import yaml

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import (
    EMAIL,
    KEY,
    MAIN_ACCOUNT,
    MEMBER_ACCOUNTS,
    TOKEN,
)

ansible_runner = pytest.importorskip(
    "ansible_runner", reason="ansible-runner is not installed (pip install -r tests/requirements/ecosystem.txt)"
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CREDENTIAL_TYPE_FILE = REPO_ROOT / "docs" / "docsite" / "awx" / "credential_type.yml"
DRIFT_REPORT = REPO_ROOT / "docs" / "docsite" / "awx" / "drift_report.yml"
ANSIBLE_BIN = Path(sys.executable).parent
RULESET = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
TASK_NAME = "Share the WAF ruleset"

# What the job's credential holds, by the environment variable its field is injected as.
CREDENTIAL_VALUES_BY_ENV = {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_ACCOUNT_ID": MAIN_ACCOUNT}

# Names AWX keeps for itself: it refuses a custom credential type that injects them.
AWX_RESERVED_ENV = {
    "VIRTUAL_ENV",
    "PATH",
    "PYTHONPATH",
    "JOB_ID",
    "INVENTORY_ID",
    "INVENTORY_SOURCE_ID",
    "INVENTORY_UPDATE_ID",
    "AD_HOC_COMMAND_ID",
    "REST_API_URL",
    "REST_API_TOKEN",
    "MAX_EVENT_RES",
    "CALLBACK_QUEUE",
    "CALLBACK_CONNECTION",
    "CACHE",
    "JOB_CALLBACK_DEBUG",
    "INVENTORY_HOSTVARS",
    "AWX_HOST",
    "PROJECT_REVISION",
    "SUPERVISOR_CONFIG_PATH",
}


def load_credential_type():
    """The documented credential type (the fields and injectors pasted into AWX)."""
    credential_type = yaml.safe_load(CREDENTIAL_TYPE_FILE.read_text())
    assert {"inputs", "injectors"} <= credential_type.keys(), credential_type
    return credential_type


def credential_inputs(credential_type, extra_by_env, defaults=True):
    """A credential of this type: each field is given the value of the environment variable it is injected as."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment()
    values_by_env = dict(CREDENTIAL_VALUES_BY_ENV if defaults else {}, **extra_by_env)
    inputs = {}
    for env_var, template in credential_type["injectors"].get("env", {}).items():
        referenced = jinja2.meta.find_undeclared_variables(env.parse(template))
        if env_var in values_by_env and len(referenced) == 1:
            inputs[referenced.pop()] = values_by_env[env_var]
    return inputs


def awx_inject(credential_type, inputs):
    """Render ``injectors.env`` and ``injectors.extra_vars`` as AWX does: an immutable Jinja2 sandbox over the
    credential's inputs (fields left empty are not in the namespace and render as ""; booleans default to false)."""
    namespace = {key: value for key, value in inputs.items() if isinstance(value, bool) or len(value)}
    for field in credential_type.get("inputs", {}).get("fields", []):
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = jinja2.sandbox.ImmutableSandboxedEnvironment()
    injectors = credential_type["injectors"]
    env = {
        name: sandbox.from_string(template).render(**namespace) for name, template in injectors.get("env", {}).items()
    }
    extra_vars = {
        name: sandbox.from_string(template).render(**namespace)
        for name, template in injectors.get("extra_vars", {}).items()
    }
    return env, extra_vars


def make_private_data_dir(root, injected_env, injected_extra_vars, emulator, collections_path):
    """An ansible-runner private_data_dir as AWX lays it out: project/, inventory/, env/."""
    (root / "project").mkdir(parents=True)
    (root / "inventory").mkdir()
    (root / "env").mkdir()
    play = {
        "name": "AWX job",
        "hosts": "all",
        "gather_facts": False,
        "tasks": [
            {
                "name": TASK_NAME,
                # No credential option on purpose: they come from the job's credential, as env.
                "edgeops.cloudflare.share": {
                    "name": "waf",
                    "recipients": [{"account_id": MEMBER_ACCOUNTS[0]}],
                    "resources": [{"resource_type": "custom-ruleset", "resource_id": RULESET}],
                },
            },
            {
                # A module that always runs as a module: where its AnsiballZ file is kept, a share module path's would be.
                "name": "Ping",
                "ansible.builtin.ping": {},
            },
        ],
    }
    (root / "project" / "playbook.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    (root / "inventory" / "hosts").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                    }
                }
            }
        )
    )
    envvars = dict(injected_env)
    envvars.setdefault("CLOUDFLARE_BASE_URL", emulator.base_url)  # the test's only addition: where the API is
    envvars.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
            "ANSIBLE_HOME": str(root / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(root / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_KEEP_REMOTE_FILES": "1",
            "ANSIBLE_REMOTE_TMP": str(root / "remote-tmp"),
        }
    )
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    if injected_extra_vars:
        (root / "env" / "extravars").write_text(yaml.safe_dump(injected_extra_vars))
    return root


def run_job(private_data_dir, ident, verbosity=0, cmdline=None):
    return ansible_runner.run(
        private_data_dir=str(private_data_dir),
        playbook="playbook.yml",
        ident=ident,
        verbosity=verbosity,
        quiet=True,
        cmdline=cmdline,
    )


def share_task_result(run):
    oks = [
        event
        for event in run.events
        if event["event"] == "runner_on_ok" and event["event_data"].get("task") == TASK_NAME
    ]
    assert len(oks) == 1, [(e["event"], e.get("event_data", {}).get("task")) for e in run.events]
    return oks[0]["event_data"]["res"]


def secret_forms(secret):
    encoded = base64.b64encode(secret.encode()).decode()
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret), encoded, encoded.rstrip("=")}


def job_output_files(artifact_dir):
    """What AWX keeps of a job: its stdout/stderr, status/rc and events (not ``command``, which is runner's
    record of the process environment, deleted with the private_data_dir)."""
    return [path for path in sorted(Path(artifact_dir).rglob("*")) if path.is_file() and path.name != "command"]


@pytest.fixture
def credential_type():
    return load_credential_type()


def test_credential_type_injects_the_token_from_a_secret_field(credential_type):
    env_injectors = credential_type["injectors"].get("env", {})
    assert "CLOUDFLARE_API_TOKEN" in env_injectors, env_injectors
    fields = {field["id"]: field for field in credential_type["inputs"]["fields"]}
    referenced = jinja2.meta.find_undeclared_variables(
        jinja2.sandbox.ImmutableSandboxedEnvironment().parse(env_injectors["CLOUDFLARE_API_TOKEN"])
    )
    assert len(referenced) == 1 and referenced <= fields.keys(), (referenced, fields)
    assert fields[referenced.pop()].get("secret") is True
    reserved = [name for name in env_injectors if name in AWX_RESERVED_ENV or name.startswith("ANSIBLE_")]
    assert not reserved, f"AWX refuses to inject {reserved}"


def test_awx_style_job_creates_the_share_then_is_unchanged(
    tmp_path, clean_emulator, collections_path, credential_type, monkeypatch
):
    for name in [name for name in os.environ if name.startswith("CLOUDFLARE_")]:
        monkeypatch.delenv(name)  # only the job's credential may provide them
    # The job's image: runner starts `ansible-playbook` from PATH (this venv's, not another one).
    monkeypatch.setenv("PATH", "{}{}{}".format(ANSIBLE_BIN, os.pathsep, os.environ.get("PATH", "")))
    inputs = credential_inputs(credential_type, {"CLOUDFLARE_BASE_URL": clean_emulator.base_url})
    assert set(credential_type["inputs"].get("required", [])) <= inputs.keys(), inputs  # AWX would refuse it
    injected, injected_extra_vars = awx_inject(credential_type, inputs)
    assert injected["CLOUDFLARE_API_TOKEN"] == TOKEN
    assert injected["CLOUDFLARE_ACCOUNT_ID"] == MAIN_ACCOUNT
    private_data_dir = make_private_data_dir(
        tmp_path / "job", injected, injected_extra_vars, clean_emulator, collections_path
    )
    (play,) = yaml.safe_load((private_data_dir / "project" / "playbook.yml").read_text())
    task_args = play["tasks"][0]["edgeops.cloudflare.share"]
    assert not task_args.keys() & {"api_token", "api_email", "api_key", "account_id", "base_url"}, task_args

    first = run_job(private_data_dir, "job-1")
    assert (first.status, first.rc) == ("successful", 0), first.stdout.read()
    created = share_task_result(first)
    assert created["changed"] is True
    (share,) = clean_emulator.state()
    assert created["share"]["id"] == share["id"] and share["name"] == "waf"
    assert share["account_id"] == MAIN_ACCOUNT
    assert {entry["auth"] for entry in clean_emulator.requests_log()} == {"token"}

    # A job template's verbosity can be raised to 3 (debug); the token must not show there either.
    second = run_job(private_data_dir, "job-2", verbosity=3)
    assert (second.status, second.rc) == ("successful", 0), second.stdout.read()
    again = share_task_result(second)
    assert again["changed"] is False and again["share"]["id"] == share["id"]
    assert len(clean_emulator.state()) == 1

    artifacts = private_data_dir / "artifacts"
    for ident in ("job-1", "job-2"):
        files = job_output_files(artifacts / ident)
        names = {path.relative_to(artifacts / ident).parts[0] for path in files}
        assert {"stdout", "job_events", "status", "rc"} <= names, names
        assert len(list((artifacts / ident / "job_events").glob("*.json"))) >= 4
        for path in files:
            text = path.read_text(errors="replace")
            leaked = sorted(form for form in secret_forms(TOKEN) if form in text)
            assert not leaked, f"{path} contains the token as {leaked}"
    # The job ran the share task in the controller's worker: no module was shipped for it (ping's was).
    kept = sorted({path.name for path in (private_data_dir / "remote-tmp").rglob("AnsiballZ_*.py")})
    assert kept == ["AnsiballZ_ping.py"], kept
    # The search would find it: runner's own process record holds the injected environment.
    assert TOKEN in json.loads((artifacts / "job-1" / "command").read_text())["env"]["CLOUDFLARE_API_TOKEN"]


SHARES = [
    {
        "name": "waf",
        "recipients": [{"account_id": MEMBER_ACCOUNTS[0]}],
        "resources": [{"resource_type": "custom-ruleset", "resource_id": RULESET, "meta": {}}],
    }
]


def test_scheduled_drift_report_job_fails_only_on_drift_and_writes_nothing(
    tmp_path, clean_emulator, collections_path, credential_type, monkeypatch
):
    """docs/docsite/awx/drift_report.yml as a job template of type "Check" (runner's --check) with the credential."""
    for name in [name for name in os.environ if name.startswith("CLOUDFLARE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", "{}{}{}".format(ANSIBLE_BIN, os.pathsep, os.environ.get("PATH", "")))
    injected, injected_extra_vars = awx_inject(
        credential_type, credential_inputs(credential_type, {"CLOUDFLARE_BASE_URL": clean_emulator.base_url})
    )
    private_data_dir = make_private_data_dir(
        tmp_path / "job", injected, injected_extra_vars, clean_emulator, collections_path
    )
    project = private_data_dir / "project"
    project.joinpath("playbook.yml").write_text(DRIFT_REPORT.read_text())
    project.joinpath("group_vars").mkdir()
    project.joinpath("group_vars", "all.yml").write_text(
        yaml.safe_dump({"cloudflare_shares": SHARES, "resource_sharing_prune": True})
    )
    clean_emulator.seed(SHARES)
    clean_emulator.clear_log()

    in_sync = run_job(private_data_dir, "drift-1", cmdline="--check")
    assert (in_sync.status, in_sync.rc) == ("successful", 0), in_sync.stdout.read()
    # Someone adds a recipient by hand and makes another share in the dashboard.
    clean_emulator.seed([dict(SHARES[0], name="made by hand")])
    share = next(s for s in clean_emulator.state() if s["name"] == "waf")
    requests.post(
        "{}/accounts/{}/shares/{}/recipients".format(clean_emulator.base_url, MAIN_ACCOUNT, share["id"]),
        json={"recipient_account_id": MEMBER_ACCOUNTS[1]},
        headers=clean_emulator.auth_headers,
        timeout=10,
        verify=clean_emulator.verify,
    ).raise_for_status()
    clean_emulator.clear_log()
    drifted = run_job(private_data_dir, "drift-2", cmdline="--check")
    output = drifted.stdout.read()
    assert (drifted.status, drifted.rc) == ("failed", 2), output
    assert "Cloudflare shares drifted from cloudflare_shares" in output
    assert "to update ['waf']" in output and "to delete ['made by hand']" in output, output
    assert [entry for entry in clean_emulator.requests_log() if entry["method"] != "GET"] == []


@pytest.mark.parametrize(
    ("scheme", "outcome"),
    [
        ("token", "key:token"),
        ("email and key", "key:key"),
        (
            "token, email and key",
            "Use one auth scheme: CLOUDFLARE_API_TOKEN alone, or CLOUDFLARE_EMAIL with CLOUDFLARE_API_KEY",
        ),
        ("nothing", "No Cloudflare credentials"),
    ],
)
def test_the_credential_type_takes_exactly_one_scheme(
    tmp_path, clean_emulator, collections_path, credential_type, monkeypatch, scheme, outcome
):
    """Fields left empty are injected as empty variables, which count as unset; both schemes or none fail clearly."""
    for name in [name for name in os.environ if name.startswith("CLOUDFLARE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", "{}{}{}".format(ANSIBLE_BIN, os.pathsep, os.environ.get("PATH", "")))
    filled = {
        "token": {"CLOUDFLARE_API_TOKEN": TOKEN},
        "email and key": {"CLOUDFLARE_EMAIL": EMAIL, "CLOUDFLARE_API_KEY": KEY},
        "token, email and key": {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_EMAIL": EMAIL, "CLOUDFLARE_API_KEY": KEY},
        "nothing": {},
    }[scheme]
    inputs = credential_inputs(credential_type, dict(filled, CLOUDFLARE_ACCOUNT_ID=MAIN_ACCOUNT), defaults=False)
    injected, injected_extra_vars = awx_inject(credential_type, inputs)
    assert all(name in injected for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"))
    private_data_dir = make_private_data_dir(
        tmp_path / "job", injected, injected_extra_vars, clean_emulator, collections_path
    )
    job = run_job(private_data_dir, "scheme")
    output = job.stdout.read()
    if outcome.startswith("key:"):
        assert (job.status, job.rc) == ("successful", 0), output
        assert {entry["auth"] for entry in clean_emulator.requests_log()} == {outcome[4:]}
    else:
        assert job.status == "failed" and outcome in output, output
        assert clean_emulator.requests_log() == []
    for secret in (TOKEN, KEY):
        assert not any(form in output for form in secret_forms(secret))
