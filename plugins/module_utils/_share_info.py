# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Read-only share queries for the ``share_info`` module: one share, an account's shares, an organization's shares.

Private to this collection: the interface may change without notice.

Request cost (what the integration tests pin down):
- by id: 1 GET; list (account or organization): the pages ``list_all`` needs, 1 when unpaginated;
- ``include_resources``: 0 extra (the API's ``include_resources=true`` query on the same GET);
- ``include_recipients``: 1 recipients list per returned share (after the name filter).
"""

from __future__ import annotations

from ._errors import CloudflareError, InputError
from ._api import ShareApi

# Options passed to the list endpoints as they are (the API's own filters).
API_FILTERS = ("kind", "status", "target_type", "resource_types")


class InfoQuery:
    """What a ``share_info`` task asks for. Ids are already validated."""

    def __init__(self, share_id=None, name=None, filters=None, organization_id=None,
                 include_recipients=False, include_resources=False):
        self.share_id = share_id
        self.name = name
        self.filters = dict(filters or {})
        self.organization_id = organization_id
        self.include_recipients = include_recipients
        self.include_resources = include_resources


def filters_from_params(params):
    """The API filters set in the task (an empty ``resource_types`` list means no filter)."""
    return {option: params[option] for option in API_FILTERS if params.get(option)}


def _resources_query(include_resources):
    return {"include_resources": "true"} if include_resources else {}


def get_share(client, account_id, share_id, include_resources):
    """The share by id as the account sees it (sent or received); a clear InputError when the API does not know it."""
    path = client.path("accounts", account_id, "shares", share_id)
    try:
        return client.get(path, _resources_query(include_resources))
    except CloudflareError as error:
        if error.status == 404:
            raise InputError("No share %s in account %s (neither sent nor received by it): %s"
                             % (share_id, account_id, error))
        raise


def find_shares(client, query, account_id=None):
    """The shares the query selects, each with ``recipients``/``resources`` only when asked."""
    if query.share_id:
        shares = [get_share(client, account_id, query.share_id, query.include_resources)]
    else:
        filters = dict(query.filters, **_resources_query(query.include_resources))
        if query.organization_id:
            shares = ShareApi(client, None).list_organization_shares(query.organization_id, **filters)
        else:
            shares = ShareApi(client, account_id).list_shares(**filters)
        if query.name is not None:
            shares = [share for share in shares if share.get("name") == query.name]
    return [_complete(client, share, query, account_id) for share in shares]


def _complete(client, share, query, account_id):
    share = dict(share)
    if not query.include_resources:
        share.pop("resources", None)
    if query.include_recipients:
        # An account lists recipients through its own path (it may have received the share);
        # an organization listing has no account of its own, so the owner's path is used.
        owner = share.get("account_id") if query.organization_id else account_id
        share["recipients"] = ShareApi(client, owner).list_recipients(share["id"])
    return share
