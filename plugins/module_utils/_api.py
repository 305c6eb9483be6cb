# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Resource Sharing endpoints of one account (reads, and the planner's actions as requests).

Private to this collection: the interface may change without notice.
"""

from __future__ import annotations

from ._errors import CloudflareError


class ShareApi:
    """The Resource Sharing endpoints of one account."""

    def __init__(self, client, account_id):
        self.client = client
        self.account_id = account_id

    def _path(self, *segments):
        return self.client.path("accounts", self.account_id, "shares", *segments)

    def get_share(self, share_id):
        """The share with its resources, or None when the API does not know it."""
        try:
            return self.client.get(self._path(share_id), {"include_resources": "true"})
        except CloudflareError as error:
            if error.status == 404:
                return None
            raise

    def list_shares(self, **filters):
        return self.client.list_all(self._path(), filters)

    def list_organization_shares(self, organization_id, **filters):
        return self.client.list_all(self.client.path("organizations", organization_id, "shares"), filters)

    def list_recipients(self, share_id):
        """Every recipient, each with ``resources``: its association of each resource, and errors (``error``,
        ``terminal``) when one fails."""
        return self.client.list_all(self._path(share_id, "recipients"), {"include_resources": "true"})

    def list_excluded_recipients(self, share_id):
        """The accounts an organization share leaves out (only organization shares have them)."""
        return self.client.list_all(self._path(share_id, "excluded-recipients"))

    def perform(self, share_id, action):
        """Send the request of one planner action; return the API's answer (None for a 204)."""
        method, segments, body = action.request(share_id)
        return self.client.request(method, self._path(*segments), body=body).get("result")
