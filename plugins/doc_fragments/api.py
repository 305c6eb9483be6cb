# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Options every module has; the argspec is plugins/module_utils/_module.py:common_argument_spec().
    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - "Cloudflare API token, sent as C(Authorization: Bearer <token>). The preferred scheme."
      - Needs the account's Resource Sharing permissions (read for the info module, edit for the others).
      - When no credential option is set in the task, the E(CLOUDFLARE_API_TOKEN) environment variable is used.
      - Mutually exclusive with O(api_email) and O(api_key).
    type: str
  api_email:
    description:
      - Email address of the Cloudflare user, for the legacy Global API key scheme; goes with O(api_key).
      - When no credential option is set in the task, the E(CLOUDFLARE_EMAIL) environment variable is used
        (only together with E(CLOUDFLARE_API_KEY)).
    type: str
  api_key:
    description:
      - Cloudflare Global API key (legacy scheme), sent with O(api_email).
      - When no credential option is set in the task, the E(CLOUDFLARE_API_KEY) environment variable is used.
    type: str
  account_id:
    description:
      - The Cloudflare account that owns the shares, a 32-character lowercase hexadecimal identifier.
      - If not set, the E(CLOUDFLARE_ACCOUNT_ID) environment variable is used.
    type: str
  base_url:
    description:
      - The root of the Cloudflare API v4. Change it only for a test server or an API gateway.
      - If not set, the E(CLOUDFLARE_BASE_URL) environment variable is used, then
        V(https://api.cloudflare.com/client/v4).
      - Must be an C(http://) or C(https://) URL whose path is C(/client/v4).
    type: str
  validate_certs:
    description:
      - Whether to verify the API's TLS certificate. Setting it to V(false) is unsafe outside tests,
        anyone on the path could read the credentials.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to trust for the API's TLS certificate, for example a TLS-inspecting
        proxy's CA or a test server's CA. When not set, the system's trust store is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer. Failed requests are retried (see O(max_retries)),
        so a task can take longer than this.
    type: int
    default: 30
  max_retries:
    description:
      - How many times a request is retried after a rate limit (429), a 503, or for reads, updates and
        deletes a transient failure (500, 502, 504, time-out, dropped connection). V(0) disables retries.
      - Waits grow exponentially from 0.25 seconds; a C(Retry-After) header is honoured.
    type: int
    default: 4
  max_retry_wait:
    description:
      - The most seconds one request may spend waiting between retries in total. A C(Retry-After) longer
        than what is left fails the task at once rather than waiting.
    type: int
    default: 60
notes:
  - "Where the code runs: by default in the controller's worker process, through the module's action plugin (no new
    Python, no module file to copy; a C(loop) reuses one kept-alive connection). The task runs the module as a module
    instead when that would change what was asked: the connection is not local (a task delegated to, or targeting,
    another host), C(async), C(become), or the variable C(edgeops_cloudflare_in_process) is false. Both give the same
    results; the collection's docs page on where the code runs has the details."
  - "Where each connection setting comes from: the task's option (or C(module_defaults)), else its
    C(CLOUDFLARE_*) environment variable, else the default. An empty or blank environment variable counts as
    not set; an empty option is an error (it would otherwise fall back to a variable that may name another
    account). Messages about a value name the variable it came from."
  - Credentials are never logged; O(api_token) and O(api_key) are marked C(no_log). A credential with a
    character that cannot be sent in an HTTP header (a line break, a control character, a space inside it) is
    refused before any request, by option or variable name, without showing the value.
  - If the run is interrupted (Ctrl-C, a signal, or the controller process going away), no further request is
    sent; requests already sent finish. A later run on the same account waits (at most O(timeout) plus
    5 seconds) until such an interrupted run has exited before it reads anything.
  - All modules of this collection are in the C(edgeops.cloudflare.cloudflare) action group, so
    C(module_defaults) with C(group/edgeops.cloudflare.cloudflare) sets these options once for a play.
  - A create (POST) is not retried after an answer whose fate is unknown (time-out, dropped connection, 500,
    502, 504), so that no duplicate is made; re-running the task converges.
"""

    SHARE_PART = r"""
options:
  share_id:
    description:
      - The id of the share, a 32-character lowercase hexadecimal identifier.
      - Mutually exclusive with O(share_name); one of them is required.
    type: str
  share_name:
    description:
      - The name of the share, looked up among the account's active shares of kind C(sent), as the
        P(edgeops.cloudflare.share#module) module does; two or more matches is a failure that names every id.
      - Mutually exclusive with O(share_id); one of them is required.
    type: str
"""

    # The one description of a resource type; the modules that nest it (share, shares) repeat it word for
    # word, and tests/unit/plugins/doc_fragments/test_api.py holds every copy to this one and to RESOURCE_TYPES.
    RESOURCE_TYPE = r"""
options:
  resource_type:
    description:
      - The kind of object shared.
    type: str
    required: true
    choices:
      - custom-ruleset
      - gateway-policy
      - gateway-destination-ip
      - gateway-block-page-settings
      - gateway-extended-email-matching
      - idp-federation-grant
      - trust-grant
"""

    ATTRIBUTES = r"""
attributes:
  action:
    description: An action plugin of the same name runs the module's code in the controller's worker process,
      unless the task must run as a module (see the notes).
    support: full
  action_group:
    description: Use C(group/edgeops.cloudflare.cloudflare) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - edgeops.cloudflare.cloudflare
  idempotent:
    description: Run again with the same options, and nobody else changing the shares meanwhile, it reports no
      change and sends no write request.
    support: full
"""
