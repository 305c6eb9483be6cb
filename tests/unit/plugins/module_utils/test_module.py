"""Unit tests of credential resolution and shared option checks."""

from __future__ import annotations

import pytest

from ansible_collections.edgeops.cloudflare.plugins.module_utils._errors import InputError
from ansible_collections.edgeops.cloudflare.plugins.module_utils._module import Connection, resolve_auth_headers
from ansible_collections.edgeops.cloudflare.plugins.module_utils._validation import check_base_url, check_hex_id


def opts(token=None, email=None, key=None):
    return {"api_token": token, "api_email": email, "api_key": key}


def test_token_option():
    assert resolve_auth_headers(opts(token=" t \n"), {}) == {"Authorization": "Bearer t"}


def test_email_and_key_options():
    assert resolve_auth_headers(opts(email="e@x", key="k"), {}) == {"X-Auth-Email": "e@x", "X-Auth-Key": "k"}


def test_options_win_over_environment_as_a_whole():
    env = {"CLOUDFLARE_API_TOKEN": "envtoken"}
    assert resolve_auth_headers(opts(email="e@x", key="k"), env) == {"X-Auth-Email": "e@x", "X-Auth-Key": "k"}


def test_environment_token_ignores_a_lone_email():
    env = {"CLOUDFLARE_API_TOKEN": "envtoken", "CLOUDFLARE_EMAIL": "e@x"}
    assert resolve_auth_headers(opts(), env) == {"Authorization": "Bearer envtoken"}


@pytest.mark.parametrize(
    "options, env, message",
    [
        (opts(token="t", key="k"), {}, "Use one auth scheme: api_token alone, or api_email with api_key"),
        (opts(email="e@x"), {}, "api_email and api_key go together"),
        (opts(key="k"), {}, "api_email and api_key go together"),
        (opts(), {}, "No Cloudflare credentials"),
        (opts(token="  "), {}, "api_token is empty"),
        (opts(), {"CLOUDFLARE_API_TOKEN": "  "}, "No Cloudflare credentials"),
        (opts(token="a\nb"), {}, "api_token holds a character that cannot be sent in an HTTP header"),
        (opts(), {"CLOUDFLARE_API_TOKEN": "a\nb"}, "CLOUDFLARE_API_TOKEN holds a character that cannot be sent"),
        (opts(email="e@x", key="k\x00ey"), {}, "api_key holds a character"),
        (opts(email="e @x", key="key"), {}, "api_email holds a character"),
        (opts(token="t\u00e9"), {}, "api_token holds a character"),
        (
            opts(),
            {"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_API_KEY": "k"},
            "CLOUDFLARE_API_TOKEN alone, or CLOUDFLARE_EMAIL",
        ),
        (opts(), {"CLOUDFLARE_API_KEY": "k"}, "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY go together"),
    ],
)
def test_bad_auth_combinations(options, env, message):
    with pytest.raises(InputError, match=message):
        resolve_auth_headers(options, env)


@pytest.mark.parametrize(
    "value",
    [
        "023e105f4ecef8ad9ca31a8372d0c35",
        "023e105f4ecef8ad9ca31a8372d0c3533",
        "023E105F4ECEF8AD9CA31A8372D0C353",
        "023e105f4ecef8ad9ca31a8372d0c35g",
        "",
        None,
    ],
)
def test_bad_hex_ids(value):
    with pytest.raises(InputError, match="account_id must be a 32-character lowercase hexadecimal"):
        check_hex_id("account_id", value)


@pytest.mark.parametrize(
    "value",
    [
        "api.cloudflare.com/client/v4",
        "ftp://x/client/v4",
        "https:///client/v4",
        "https://api.cloudflare.com/",
        "https://api.cloudflare.com/client/v4/accounts",
        "https://api.cloudflare.com/client/v4?x=1",
    ],
)
def test_bad_base_urls(value):
    with pytest.raises(InputError, match="base_url must"):
        check_base_url("base_url", value)


def test_good_base_url_loses_trailing_slash():
    assert check_base_url("base_url", "http://127.0.0.1:8080/client/v4/") == "http://127.0.0.1:8080/client/v4"


def connection_params(**values):
    params = {
        "api_token": None,
        "api_email": None,
        "api_key": None,
        "account_id": None,
        "base_url": None,
        "validate_certs": True,
        "ca_path": None,
        "timeout": 30,
        "max_retries": 4,
        "max_retry_wait": 60,
    }
    params.update(values)
    return params


def test_connection_from_the_environment_with_empty_variables_unset():
    env = {"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ACCOUNT_ID": "", "CLOUDFLARE_BASE_URL": " "}
    connection = Connection(connection_params(), env)
    assert connection.base_url == "https://api.cloudflare.com/client/v4" and connection.account_id is None
    with pytest.raises(
        InputError, match="account_id is required: set the account_id option or the CLOUDFLARE_ACCOUNT_ID"
    ):
        connection.require_account()


def test_options_win_over_variables_and_values_from_variables_are_named():
    env = {"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ACCOUNT_ID": "0" * 32, "CLOUDFLARE_BASE_URL": "http://x/client/v4"}
    connection = Connection(connection_params(account_id="1" * 32), env)
    assert connection.account_id == "1" * 32 and connection.base_url == "http://x/client/v4"
    with pytest.raises(
        InputError, match=r"CLOUDFLARE_ACCOUNT_ID \(the environment variable used for account_id\) must"
    ):
        Connection(connection_params(), dict(env, CLOUDFLARE_ACCOUNT_ID="X"))
    with pytest.raises(InputError, match="account_id is empty"):
        Connection(connection_params(account_id=""), env)


def test_a_credential_message_never_holds_the_value():
    with pytest.raises(InputError) as info:
        Connection(connection_params(), {"CLOUDFLARE_API_TOKEN": "abcdefgh\nijklmnop"})
    assert "abcdefgh" not in str(info.value) and "ijklmnop" not in str(info.value)
