"""Hostile input, TLS, credentials and connection errors, through real ansible processes against the emulator.

What these check goes through ansible-core (argument validation, no_log at every verbosity, the TLS context of
``ansible.module_utils.urls``, environment fallbacks): they run on every row. Retries and races, which are the
collection's own, are in test_retries_and_races.py.
"""

from __future__ import annotations

import pytest
import trustme

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import (
    MAIN_ACCOUNT,
    MAIN_ORG,
    MEMBER_ACCOUNTS,
    TOKEN,
    Emulator,
)
from ansible_collections.edgeops.cloudflare.tests.e2e.runner import AnsibleRunner
from ansible_collections.edgeops.cloudflare.tests.e2e.support import (
    RULESET,
    resource,
    share_task,
    spec,
)

A, B, C = MEMBER_ACCOUNTS
SHARE_ID = "3fd85f74b32742f1bff64a85009dda07"


def module_task(module, label, args):
    return {"name": label, "edgeops.cloudflare." + module: args, "ignore_errors": True}


# (module, label, args, text the failure message must contain): every one must fail before any request.
HOSTILE_INPUTS = [
    ("share", "empty name", spec(name=""), "name must not be empty"),
    ("share", "blank name", spec(name="   "), "name must not be empty"),
    ("share", "name with outer whitespace", spec(name=" waf"), "must not start or end with whitespace"),
    ("share", "name with control character", spec(name="wa\x07f"), "must not contain control characters"),
    ("share", "name with newline", spec(name="waf\nx"), "must not contain control characters"),
    ("share", "very long name", spec(name="x" * 256), "at most 255 are allowed"),
    ("share", "31-char account id", spec(account_id=MAIN_ACCOUNT[:31]), "account_id must be a 32-character"),
    ("share", "33-char account id", spec(account_id=MAIN_ACCOUNT + "0"), "account_id must be a 32-character"),
    ("share", "non-hex account id", spec(account_id="g" * 32), "account_id must be a 32-character"),
    (
        "share",
        "upper-case account id",
        spec(account_id=MAIN_ACCOUNT.upper()),
        "account_id must be a 32-character lowercase",
    ),
    ("share", "empty account id", spec(account_id=""), "account_id is empty"),
    ("share", "empty base_url", spec(base_url=""), "base_url is empty"),
    ("share", "empty token option", spec(api_token=""), "api_token is empty"),
    ("share", "short share id", spec(share_id="abc"), "share_id must be a 32-character"),
    ("share", "empty share id", spec(share_id=""), "share_id must be a 32-character"),
    ("share", "share id with a path", spec(share_id="../../x" + "0" * 25), "share_id must be a 32-character"),
    # ansible-core's argument validation answers this one itself, before the module runs; its message does not
    # name the option (a known ansible-core limitation for list elements with suboptions).
    (
        "share",
        "recipients not a list of mappings",
        spec() | {"recipients": "abc"},
        "dictionary requested, could not parse JSON",
    ),
    ("share", "non-hex recipient", spec(recipients=("z" * 32,)), "recipients[0].account_id must be a 32-character"),
    ("share", "unknown key in a recipient", spec() | {"recipients": [{"acount_id": A}]}, "recipients.acount_id"),
    ("share", "empty recipients", spec() | {"recipients": []}, "recipients must not be empty"),
    (
        "share",
        "accounts and an organization",
        spec() | {"recipients": [{"account_id": A}, {}]},
        "mixes accounts and an organization",
    ),
    (
        "share",
        "recipient with both ids",
        spec() | {"recipients": [{"account_id": A, "organization_id": MAIN_ORG}]},
        "sets both account_id and organization_id",
    ),
    (
        "share",
        "two organizations",
        spec() | {"recipients": [{"organization_id": MAIN_ORG}, {"organization_id": A}]},
        "several organizations",
    ),
    ("share", "resource without a type", spec(resources=[{"resource_id": RULESET}]), "resource_type"),
    (
        "share",
        "unknown type of a share's resource",
        spec(resources=[resource(rtype="waf-thing")]),
        "value of resource_type must be one of",
    ),
    ("share", "empty resources", spec() | {"resources": []}, "resources must not be empty"),
    (
        "share",
        "meta as a string",
        spec(resources=[resource(meta="not a mapping")]),
        "argument 'meta' is of type str found in 'resources'. and we were unable to convert to dict",
    ),
    (
        "share",
        "meta as a list",
        spec(resources=[resource(meta=[1, 2])]),
        "argument 'meta' is of type list found in 'resources'. and we were unable to convert to dict",
    ),
    (
        "share",
        "absent with recipients",
        {"name": "waf", "state": "absent", "recipients": [{"account_id": A}]},
        "state=absent deletes the whole share, but the task also gives recipients",
    ),
    (
        "share",
        "absent with resources",
        {"name": "waf", "state": "absent", "resources": [resource()]},
        "edgeops.cloudflare.share_resource with state=absent",
    ),
    (
        "share",
        "resource id with outer whitespace",
        spec(resources=[resource(" " + RULESET)]),
        "resources[0].resource_id must not start or end with whitespace",
    ),
    ("share", "blank resource id", spec(resources=[resource("  ")]), "resources[0].resource_id must be a non-empty"),
    (
        "share",
        "bad resource account",
        spec(resources=[resource(resource_account_id="nothex")]),
        "resources[0].resource_account_id must be a 32-character",
    ),
    ("share", "unknown key in a resource", spec(resources=[resource(owner="me")]), "resources.owner"),
    (
        "share",
        "same resource, two metas",
        spec(resources=[resource(meta={"a": 1}), resource(meta={"a": 2})]),
        "with a different meta",
    ),
    ("share", "negative wait_timeout", spec(wait=True, wait_timeout=-5), "wait_timeout must be a positive"),
    ("share", "zero timeout", spec(timeout=0), "timeout must be a positive"),
    ("share", "negative max_retries", spec(max_retries=-1), "max_retries must be 0 or more"),
    ("share", "base_url without scheme", spec(base_url="api.cloudflare.com/client/v4"), "base_url must be an http"),
    (
        "share",
        "base_url below the API root",
        spec(base_url="https://api.cloudflare.com/client/v4/accounts"),
        "base_url must point at the API root",
    ),
    (
        "share",
        "base_url without the API path",
        spec(base_url="https://api.cloudflare.com"),
        "base_url must point at the API root",
    ),
    ("share", "missing ca_path file", spec(ca_path="/nonexistent/ca.pem"), "ca_path must be a readable PEM file"),
    ("share", "unknown state", spec(state="gone"), "value of state must be one of"),
    (
        "share",
        "no name and no share id",
        {"recipients": [{"account_id": A}]},
        "one of the following is required: name, share_id",
    ),
    # The key comes from the environment: ansible-core prints the playbook lines around a failing task, so a
    # literal secret in a playbook file shows up in the error output of the task after it (keep secrets in
    # vault or the environment, as the docs say).
    (
        "share",
        "two auth schemes",
        spec(api_token=TOKEN, api_key="{{ lookup('env', 'TEST_API_KEY') }}"),
        "Use one auth scheme",
    ),
    (
        "share",
        "three auth schemes",
        spec(api_email="ops@example.com", api_token=TOKEN, api_key="{{ lookup('env', 'TEST_API_KEY') }}"),
        "Use one auth scheme",
    ),
    ("share", "email without key", spec(api_email="ops@example.com"), "api_email and api_key go together"),
    ("shares", "no concurrency", {"shares": [spec()], "concurrency": 0}, "concurrency must be between 1 and 32"),
    ("shares", "negative request budget", {"shares": [spec()], "request_budget": -1}, "request_budget must be 0"),
    (
        "shares",
        "empty budget window",
        {"shares": [spec()], "request_budget_window": 0},
        "request_budget_window must be a positive",
    ),
    (
        "share_recipient",
        "share id and share name",
        {"share_id": SHARE_ID, "share_name": "waf", "recipient_account_id": A},
        "mutually exclusive",
    ),
    ("share_recipient", "no recipient", {"share_name": "waf"}, "one of the following is required"),
    (
        "share_recipient",
        "empty recipient",
        {"share_name": "waf", "recipient_account_id": ""},
        "recipient_account_id must be a 32-character",
    ),
    (
        "share_recipient",
        "share name with a tab",
        {"share_name": "w\taf", "recipient_account_id": A},
        "control characters",
    ),
    (
        "share_resource",
        "unknown resource type",
        {"share_name": "waf", "resource_type": "zone", "resource_id": RULESET},
        "value of resource_type must be one of",
    ),
    (
        "share_resource",
        "resource meta as a string",
        {"share_name": "waf", "resource_type": "custom-ruleset", "resource_id": RULESET, "meta": "x"},
        "argument 'meta' is of type str and we were unable to convert to dict",
    ),
    (
        "share_resource",
        "bad resource account of a part",
        {
            "share_name": "waf",
            "resource_type": "custom-ruleset",
            "resource_id": RULESET,
            "resource_account_id": "nothex",
        },
        "resource_account_id must be a 32-character",
    ),
    (
        "share_resource",
        "blank share resource id",
        {"share_name": "waf", "resource_type": "custom-ruleset", "resource_id": " "},
        "resource_id must be a non-empty string",
    ),
    ("share_info", "share id with filters", {"share_id": SHARE_ID, "name": "waf"}, "mutually exclusive"),
    ("share_info", "unknown resource type filter", {"resource_types": ["zone"]}, "resource_types"),
    ("share_info", "short organization id", {"organization_id": "abc"}, "organization_id must be a 32-character"),
]


def test_hostile_inputs_fail_naming_the_option_before_any_request(runner, emulator, capsys):
    tasks = [module_task(module, label, args) for module, label, args, _expected in HOSTILE_INPUTS]
    run = runner.playbook(*tasks, env={"TEST_API_KEY": "key-Hm4p9Qx2"})
    problems = []
    for module, label, _args, expected in HOSTILE_INPUTS:
        outcome = run.task(label)
        message = outcome["result"].get("msg", "")
        if outcome["status"] != "failed" or expected not in message:
            problems.append("{} / {}: {} {!r}".format(module, label, outcome["status"], message))
    assert not problems, "\n".join(problems)
    assert emulator.requests_log() == []
    with capsys.disabled():
        print(f"\nhostile inputs tried: {len(HOSTILE_INPUTS)}, all refused before any request")


# --- TLS --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """An HTTPS emulator whose certificate is signed by a test CA; yields (emulator, CA file)."""
    directory = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    server_cert = authority.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = directory / "server.pem", directory / "server.key", directory / "ca.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for blob in server_cert.cert_chain_pems[1:]:
        blob.write_to_path(str(cert_file), append=True)
    server_cert.private_key_pem.write_to_path(str(key_file))
    authority.cert_pem.write_to_path(str(ca_file))
    with Emulator(tls_cert=cert_file, tls_key=key_file) as https_emulator:
        https_emulator.verify = str(ca_file)
        yield https_emulator, ca_file


@pytest.fixture
def tls_runner(tmp_path, tls, collections_path):
    https_emulator, _ca_file = tls
    https_emulator.reset()
    return AnsibleRunner(tmp_path, https_emulator, collections_path)


def test_tls_default_verification_fails_readably(tls_runner, tls):
    https_emulator, _ca_file = tls
    run = tls_runner.playbook(share_task("first", **spec()))
    message = run.task("first")["result"]["msg"]
    assert (
        f"TLS certificate verification of 127.0.0.1:{https_emulator.port} failed" in message and "ca_path" in message
    ), message
    assert https_emulator.requests_log() == []


def test_tls_with_ca_path_works(tls_runner, tls):
    https_emulator, ca_file = tls
    run = tls_runner.playbook(
        share_task("first", **spec(ca_path=str(ca_file))), share_task("second", **spec(ca_path=str(ca_file)))
    )
    assert run.task("first")["result"]["changed"] is True and run.task("second")["result"]["changed"] is False, (
        run.output
    )
    assert len(https_emulator.state()) == 1


def test_tls_without_verification_works(tls_runner):
    run = tls_runner.playbook(share_task("first", **spec(validate_certs=False)))
    assert run.task("first")["result"]["changed"] is True, run.output


# --- credentials, environment, connection errors ------------------------------------------------------------


TOKEN_WITH_NEWLINE = "tok-Qz81mPa2\nsecond-line-Wk3"


@pytest.mark.parametrize("verbosity", [0, 4])
@pytest.mark.parametrize("where", ["environment", "option"])
def test_credentials_that_cannot_be_headers_are_refused_by_name_and_never_echoed(runner, emulator, where, verbosity):
    bulk = {"name": "bulk", "edgeops.cloudflare.shares": {"shares": [spec()]}, "ignore_errors": True}
    single = dict(share_task("single", **spec()), ignore_errors=True)
    if where == "environment":
        env, label = {"CLOUDFLARE_API_TOKEN": TOKEN_WITH_NEWLINE}, "CLOUDFLARE_API_TOKEN"
        tasks = [single, bulk]
    else:
        # From a variable (a vaulted vars file in real life): a literal in the playbook would be printed by
        # ansible-core itself around a failing task, whatever the module does.
        env, label = {"TEST_BAD_TOKEN": TOKEN_WITH_NEWLINE}, "api_token"
        option = {"api_token": "{{ lookup('env', 'TEST_BAD_TOKEN') }}"}
        tasks = [
            dict(single, **{"edgeops.cloudflare.share": dict(spec(), **option)}),
            dict(bulk, **{"edgeops.cloudflare.shares": dict(shares=[spec()], **option)}),
        ]
    runner.secrets.add(TOKEN_WITH_NEWLINE)
    run = runner.playbook(*tasks, env=env, verbosity=verbosity)
    for task in ("single", "bulk"):
        message = run.task(task)["result"]["msg"]
        assert message.startswith(label + " holds a character that cannot be sent in an HTTP header"), message
        assert "its value is not shown" in message
    assert emulator.requests_log() == []


def test_https_to_a_plain_http_server_says_it_does_not_speak_tls(runner, emulator):
    base_url = emulator.base_url.replace("http://", "https://")
    bulk = {
        "name": "bulk",
        "edgeops.cloudflare.shares": {"shares": [spec()], "base_url": base_url},
        "ignore_errors": True,
    }
    run = runner.playbook(dict(share_task("single", **spec(base_url=base_url)), ignore_errors=True), bulk)
    for message in (run.task("single")["result"]["msg"], run.task("bulk")["result"]["msg"]):
        assert f"127.0.0.1:{emulator.port} does not speak TLS" in message, message
        assert "validate_certs" not in message and "ca_path" not in message


def test_empty_environment_values_count_as_unset_and_messages_name_the_variable(runner, emulator, tmp_path):
    # CLOUDFLARE_BASE_URL="" counts as unset: the default API root is used. The request goes to a proxy that
    # is not there (nothing leaves this machine), and the message names the host and the proxy.
    env = {
        "CLOUDFLARE_BASE_URL": "",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "no_proxy": "",
    }
    run = runner.playbook(dict(share_task("default root", **spec(max_retries=0)), ignore_errors=True), env=env)
    message = run.task("default root")["result"]["msg"]
    assert "connection to api.cloudflare.com:443 (through the proxy 127.0.0.1:9) failed" in message, message
    # Values from a variable are named by the variable.
    cases = {
        "bad account variable": (
            {"CLOUDFLARE_ACCOUNT_ID": "NOT-AN-ID"},
            "CLOUDFLARE_ACCOUNT_ID (the environment variable used for account_id) must be a 32-character",
        ),
        "bad base_url variable": (
            {"CLOUDFLARE_BASE_URL": "ftp://example.test/client/v4"},
            "CLOUDFLARE_BASE_URL (the environment variable used for base_url) must be an http",
        ),
        "blank account variable": (
            {"CLOUDFLARE_ACCOUNT_ID": "  "},
            "account_id is required: set the account_id option or the CLOUDFLARE_ACCOUNT_ID",
        ),
        "empty token variable": ({"CLOUDFLARE_API_TOKEN": ""}, "No Cloudflare credentials"),
    }
    for label, (variables, expected) in cases.items():
        run = runner.playbook(dict(share_task(label, **spec()), ignore_errors=True), env=variables)
        assert expected in run.task(label)["result"]["msg"], run.task(label)["result"]["msg"]
    assert emulator.requests_log() == []


def test_a_refused_connection_names_the_host(runner, emulator):
    run = runner.playbook(
        dict(share_task("refused", **spec(base_url="http://127.0.0.1:9/client/v4", max_retries=0)), ignore_errors=True)
    )
    assert "connection to 127.0.0.1:9 failed" in run.task("refused")["result"]["msg"]
