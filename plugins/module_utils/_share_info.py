# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Read-only share queries for the ``share_info`` module: one share, an account's shares, an organization's shares.

Private to this collection: the interface may change without notice.

Request cost (what the end-to-end tests pin down):
- by id: 1 GET; list (account or organization): the pages ``list_all`` needs, 1 when unpaginated;
- ``include_resources``: 0 extra (the API's ``include_resources=true`` query on the same GET), except
  for an organization listing, which does not take that query: 1 GET of each listed share (through
  its owner's account, with ``include_resources=true``);
- ``include_recipients``: 1 recipients list per returned share (after the name filter), and for a
  share the account (or, in an organization listing, its owner) sent to the whole organization, 1
  list of its excluded recipients;
- ``include_spec``: as ``include_resources``, plus 1 recipients list per returned active sent
  account share (1 excluded-recipients list per organization share), plus 1 listing of the account's active sent shares (to find duplicate names) unless
  the query's own listing already was that listing.
"""

from __future__ import annotations

from ._api import ShareApi
from ._errors import CloudflareError, InputError
from ._model import TARGET_ORGANIZATION, association_errors, share_spec
from ._share import is_active_sent, list_sent_shares

# Options passed to the list endpoints as they are (the API's own filters).
API_FILTERS = ("kind", "status", "target_type", "resource_types")


class InfoQuery:
    """What a ``share_info`` task asks for. Ids are already validated."""

    def __init__(
        self,
        *,
        share_id=None,
        name=None,
        filters=None,
        organization_id=None,
        include_recipients=False,
        include_resources=False,
        include_spec=False,
    ):
        if include_spec and organization_id:
            raise InputError(
                "include_spec exports the shares the account owns; it cannot be used with organization_id."
            )
        self.share_id = share_id
        self.name = name
        self.filters = dict(filters or {})
        self.organization_id = organization_id
        self.include_recipients = include_recipients
        self.include_resources = include_resources or include_spec
        self.include_spec = include_spec


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
            raise InputError(f"No share {share_id} in account {account_id} (neither sent nor received by it): {error}")
        raise


def find_shares(client, query, account_id=None):
    """The shares the query selects, each with ``recipients``/``resources``/``spec`` only when asked."""
    if query.share_id:
        shares = [get_share(client, account_id, query.share_id, query.include_resources)]
    else:
        filters = dict(query.filters, **_resources_query(query.include_resources))
        if query.organization_id:
            filters.pop("include_resources", None)  # not a parameter of the organization listing
            shares = ShareApi(client, None).list_organization_shares(query.organization_id, **filters)
        else:
            shares = ShareApi(client, account_id).list_shares(**filters)
        if query.name is not None:
            shares = [share for share in shares if share.get("name") == query.name]
        if query.organization_id and query.include_resources:
            # Never a silently empty list: each share (after the name filter) is read through its owner.
            shares = [
                dict(share, resources=ShareApi(client, share["account_id"]).get_share(share["id"])["resources"])
                for share in shares
            ]
    completed = [_complete(client, share, query, account_id) for share in shares]
    if query.include_spec:
        _add_specs(client, query, account_id, completed, shares)
    return completed


def _complete(client, share, query, account_id):
    share = dict(share)
    if not query.include_resources:
        share.pop("resources", None)
    exported = query.include_spec and is_active_sent(share) and share.get("target_type") != TARGET_ORGANIZATION
    owner = share.get("account_id") if query.organization_id else account_id
    if query.include_recipients or exported:
        # An account lists recipients through its own path (it may have received the share);
        # an organization listing has no account of its own, so the owner's path is used.
        share["recipients"] = ShareApi(client, owner).list_recipients(share["id"])
        share["association_errors"] = association_errors(share)
    own_organization_share = share.get("target_type") == TARGET_ORGANIZATION and share.get("account_id") == owner
    if own_organization_share and (query.include_recipients or (query.include_spec and is_active_sent(share))):
        share["excluded_recipients"] = ShareApi(client, owner).list_excluded_recipients(share["id"])
    return share


def _lists_every_active_sent_share(query):
    return (
        not query.share_id
        and all(query.filters.get(key) in (None, value) for key, value in (("kind", "sent"), ("status", "active")))
        and not set(query.filters) - {"kind", "status"}
    )


def _add_specs(client, query, account_id, shares, listed):
    """Give every active sent share its ``spec``; ``share_id`` in it where its name is not unique."""
    every = listed if _lists_every_active_sent_share(query) else list_sent_shares(ShareApi(client, account_id))
    names = [share.get("name") for share in every if is_active_sent(share)]
    for share in shares:
        if is_active_sent(share):
            share["spec"] = share_spec(share, by_id=names.count(share.get("name")) > 1)
