"""Drive the collection's own share service in this process, over real HTTP to the emulator.

The fault matrix and the convergence property run hundreds of converges: through ansible-playbook each
would cost about 2 s of process start-up, so they call the same code the ``share`` module calls
(``converge`` with a real ``CloudflareClient`` on a ``KeepAliveTransport``, as on both execution paths), and
the ansible-level tests cover the module wrapper.
"""

from __future__ import annotations

from ansible_collections.edgeops.cloudflare.plugins.module_utils._client import CloudflareClient, RetryPolicy
from ansible_collections.edgeops.cloudflare.plugins.module_utils._api import ShareApi
from ansible_collections.edgeops.cloudflare.plugins.module_utils._model import share_view
from ansible_collections.edgeops.cloudflare.plugins.module_utils._planner import desired_from_params
from ansible_collections.edgeops.cloudflare.plugins.module_utils._share import ShareRequest, converge
from ansible_collections.edgeops.cloudflare.plugins.module_utils._transport import KeepAliveTransport

from ansible_collections.edgeops.cloudflare.tests.emulator.harness import MAIN_ACCOUNT, TOKEN

FAST_RETRIES = RetryPolicy(max_retries=1, backoff_base=0.01)


def share_api(emulator, timeout=2.0, retry_policy=FAST_RETRIES):
    client = CloudflareClient(
        emulator.base_url,
        {"Authorization": "Bearer " + TOKEN},
        timeout=timeout,
        retry_policy=retry_policy,
        transport=KeepAliveTransport(),
    )
    return ShareApi(client, MAIN_ACCOUNT)


def converge_share(api, params, share_id=None, check_mode=False):
    """What the ``share`` module does with these options (state present); returns its result dict."""
    desired = desired_from_params(params, MAIN_ACCOUNT)
    request = ShareRequest(
        name=params.get("name"), share_id=share_id, present=True, check_mode=check_mode, desired=desired
    )
    return converge(api, request)


def dumped_view(emulator, share_id):
    """The normalised view of one share as the emulator holds it."""
    share = next(s for s in emulator.state() if s["id"] == share_id)
    return share_view(share)
