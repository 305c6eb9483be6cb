#!/usr/bin/python
# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: share_info
short_description: List Cloudflare resource shares, or get one
version_added: 0.1.0
description:
  - Returns Cloudflare resource shares without changing anything; never reports C(changed).
  - One share by O(share_id) (sent or received by the account); or the account's shares, filtered by the API
    (O(kind), O(status), O(target_type), O(resource_types)) and by exact O(name); or the shares of an
    organization (O(organization_id)).
  - In list mode, nothing matching is not an error; the result is an empty list. An unknown O(share_id) is an error.
  - O(include_resources) costs no extra request; O(include_recipients) costs one request per returned share.
  - "Also works ad hoc, for example
    C(ansible localhost -m edgeops.cloudflare.share_info -a 'name=\"Shared WAF rules\" include_recipients=true'),
    with the credentials in the E(CLOUDFLARE_API_TOKEN) and E(CLOUDFLARE_ACCOUNT_ID) environment variables."
author:
  - edgeops.cloudflare maintainers (@edgeops)
options:
  share_id:
    description:
      - The id of one share to return, a 32-character lowercase hexadecimal identifier. The share may have been
        sent or received by O(account_id), and may be in any status.
      - The task fails if the API does not know the share.
      - Mutually exclusive with the list options O(name), O(kind), O(status), O(target_type), O(resource_types)
        and O(organization_id).
    type: str
  name:
    description:
      - Return only the shares with exactly this name (case-sensitive). Names are not unique, so several shares
        may be returned.
      - Applied by the module to every page of the API's answer (the API has no name filter).
    type: str
  kind:
    description:
      - V(sent) for the shares the account created, V(received) for the shares other accounts shared with it.
      - Omit to list both.
    type: str
    choices: [sent, received]
  status:
    description:
      - Return only the shares in this status. Deletion is asynchronous (V(deleting), then V(deleted)).
      - Omit to list shares in any status.
    type: str
    choices: [active, deleting, deleted]
  target_type:
    description:
      - V(account) for shares to accounts, V(organization) for shares to a whole organization.
      - Omit to list both.
    type: str
    choices: [account, organization]
  resource_types:
    description:
      - Return only the shares that contain a resource of at least one of these types.
      - Omit (or give an empty list) to list shares whatever they contain.
    type: list
    elements: str
    choices:
      - custom-ruleset
      - gateway-policy
      - gateway-destination-ip
      - gateway-block-page-settings
      - gateway-extended-email-matching
      - idp-federation-grant
      - trust-grant
  organization_id:
    description:
      - List the shares of this organization (owned by any of its accounts) instead of one account's shares,
        a 32-character lowercase hexadecimal identifier.
      - O(account_id) is not needed (and not used) with this option. O(name), O(kind), O(status),
        O(target_type) and O(resource_types) filter the organization's shares too.
      - Use O(api_email) with O(api_key) (the Global API key), since Cloudflare's user API tokens support only some
        organization operations, and its reference lists only the key for this listing.
    type: str
  include_recipients:
    description:
      - Add each share's C(recipients), in any association status, each with its association of each resource
        (and any association error); and C(association_errors), the errors in short.
      - For a share with the whole organization that the account sent, add its C(excluded_recipients) too.
      - Costs one request per returned share (after the O(name) filter), and one more per organization share.
    type: bool
    default: false
  include_resources:
    description:
      - Add each share's C(resources), in any status.
      - Costs no extra request (the API adds them to its answer), except with O(organization_id), whose listing
        does not take that request, and then costs one request per returned share.
    type: bool
    default: false
  include_spec:
    description:
      - Add to each active share the account sent its C(spec), the options of P(edgeops.cloudflare.share#module)
        (and of one item of P(edgeops.cloudflare.shares#module) and of the C(resource_sharing) role's
        C(cloudflare_shares)) that describe it as it is. Feeding them back changes nothing. This is how
        shares made in the dashboard or by other tools are adopted; see the collection's C(docs/examples/export.yml).
      - Implies O(include_resources); reads the recipients of every exported account share (one request each),
        and the account's active sent shares once more to find names that are not unique (unless the query
        already listed them), so that such shares are exported with their C(share_id).
      - Not with O(organization_id), since only the account's own shares are exported.
    type: bool
    default: false
extends_documentation_fragment:
  - edgeops.cloudflare.api
  - edgeops.cloudflare.api.attributes
attributes:
  check_mode:
    description: The module only reads, so it runs normally in check mode.
    support: full
  diff_mode:
    description: The module changes nothing, so there is no diff.
    support: N/A
seealso:
  - module: edgeops.cloudflare.share
  - name: Cloudflare API reference for Resource Sharing
    description: The endpoints this module uses.
    link: https://developers.cloudflare.com/api/resources/resource_sharing/
"""

EXAMPLES = r"""
# Ad hoc, with CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID set in the environment:
#   ansible localhost -m edgeops.cloudflare.share_info -a 'name="Shared WAF rules" include_recipients=true'
#   ansible localhost -m edgeops.cloudflare.share_info -a 'kind=received status=active'

- name: Get the active shares named "Shared WAF rules", with recipients and resources
  edgeops.cloudflare.share_info:
    name: Shared WAF rules
    status: active
    include_recipients: true
    include_resources: true
  register: waf

- name: Show the accounts each of them is shared with
  ansible.builtin.debug:
    msg: "{{ item.id }}: {{ item.recipients | map(attribute='account_id') | list }}"
  loop: "{{ waf.shares }}"

- name: Fail unless exactly one share has that name
  ansible.builtin.assert:
    that: waf.shares | length == 1
    fail_msg: "Expected one share named 'Shared WAF rules', found {{ waf.shares | length }}"

- name: List the active shares other accounts shared with this one
  edgeops.cloudflare.share_info:
    kind: received
    status: active
  register: received

- name: List the account's shares that contain WAF custom rulesets or Gateway policies
  edgeops.cloudflare.share_info:
    resource_types:
      - custom-ruleset
      - gateway-policy
    include_resources: true

- name: Export the account's shares as the options that describe them (to adopt shares made elsewhere)
  edgeops.cloudflare.share_info:
    kind: sent
    status: active
    include_spec: true
  register: exported

- name: Converge them as they are, which changes nothing; from now on the list is the source of truth
  edgeops.cloudflare.shares:
    shares: "{{ exported.shares | map(attribute='spec') | list }}"

- name: Get one share by id (sent or received), with its recipients
  edgeops.cloudflare.share_info:
    share_id: 3fd85f74b32742f1bff64a85009dda07
    include_recipients: true
  register: one

- name: List every active share of the organization (no account_id needed; user API tokens cannot, so the Global API key)
  edgeops.cloudflare.share_info:
    api_email: "{{ vault_cloudflare_email }}"
    api_key: "{{ vault_cloudflare_api_key }}"
    organization_id: 5f0c7c1b2ed04c41a0e0d7e5a2f7c0d1
    status: active

- name: Set credentials once for every module of the collection
  module_defaults:
    group/edgeops.cloudflare.cloudflare:
      api_token: "{{ vault_cloudflare_api_token }}"
      account_id: 023e105f4ecef8ad9ca31a8372d0c353
  block:
    - name: List the organization-wide shares this account sent
      edgeops.cloudflare.share_info:
        kind: sent
        target_type: organization
"""

RETURN = r"""
shares:
  description:
    - The shares found, in the API's order (oldest first). An empty list when nothing matches (list mode).
    - Each share has the API's fields, plus C(recipients) with O(include_recipients) and C(resources) with
      O(include_resources), and C(spec) with O(include_spec).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The share's id.
      type: str
      sample: 3fd85f74b32742f1bff64a85009dda07
    name:
      description: The share's name (not unique).
      type: str
      sample: Shared WAF rules
    account_id:
      description: The owning account (for a received share, the account that shared it).
      type: str
      sample: 023e105f4ecef8ad9ca31a8372d0c353
    account_name:
      description: The owning account's display name.
      type: str
      sample: Account A
    organization_id:
      description: The owner's organization.
      type: str
      sample: 5f0c7c1b2ed04c41a0e0d7e5a2f7c0d1
    status:
      description: V(active), V(deleting) or V(deleted).
      type: str
      sample: active
    target_type:
      description: Whether the share targets accounts or an organization (V(account) or V(organization)).
      type: str
      sample: account
    kind:
      description:
        - V(sent) for a share O(account_id) created, V(received) for one shared with it.
        - In an organization listing, as the API reports it.
      type: str
      sample: sent
    created:
      description: When the share was created (RFC 3339).
      type: str
      sample: "2023-09-21T18:56:32.624632Z"
    modified:
      description: When the share was last modified (RFC 3339).
      type: str
      sample: "2023-09-21T18:56:32.624632Z"
    recipients:
      description: Every recipient record, in any association status.
      returned: when O(include_recipients=true)
      type: list
      elements: dict
      contains:
        id:
          description: The recipient id.
          type: str
          sample: 8c2d4e6f8a0b4c1d9e3f5a7b9c1d3e5f
        account_id:
          description: The receiving account.
          type: str
          sample: 1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10
        association_status:
          description: V(associating), V(associated), V(disassociating) or V(disassociated).
          type: str
          sample: associated
        created:
          description: When the recipient was added (RFC 3339).
          type: str
          sample: "2023-09-21T18:56:32.624632Z"
        modified:
          description: When the recipient last changed (RFC 3339).
          type: str
          sample: "2023-09-21T18:56:32.624632Z"
        resources:
          description:
            - The recipient's association of each resource, with C(error) (empty when none) and C(terminal)
              (whether Cloudflare keeps retrying).
          type: list
          elements: dict
    association_errors:
      description:
        - The failed associations of the share's present recipients (C(account_id), C(resource_id), C(error),
          C(terminal)); empty when there is none.
      returned: when O(include_recipients=true)
      type: list
      elements: dict
      sample:
        - account_id: 1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10
          resource_id: 0a1b2c3d4e5f40718293a4b5c6d7e8f9
          error: Recipient is missing necessary entitlement
          terminal: true
    excluded_recipients:
      description:
        - The accounts a share with the whole organization leaves out (C(id), C(account_id), C(created),
          C(modified)).
      returned: with O(include_recipients=true), for organization shares the account (or in an organization
        listing, any account of it) sent
      type: list
      elements: dict
    resources:
      description: Every share resource, in any status.
      returned: when O(include_resources=true)
      type: list
      elements: dict
      contains:
        id:
          description: The share-resource id (not the shared object's id).
          type: str
          sample: 7b1e3d5f7a9c4b2d8e0f2a4c6e8b0d2f
        resource_id:
          description: The shared object's id.
          type: str
          sample: 0a1b2c3d4e5f40718293a4b5c6d7e8f9
        resource_account_id:
          description: The account that owns the shared object.
          type: str
          sample: 023e105f4ecef8ad9ca31a8372d0c353
        resource_type:
          description: The kind of object shared.
          type: str
          sample: custom-ruleset
        resource_version:
          description: The version of the share resource.
          type: int
          sample: 0
        meta:
          description: The share resource's metadata.
          type: dict
          sample: {}
        status:
          description: V(active), V(deleting) or V(deleted).
          type: str
          sample: active
        created:
          description: When the resource was added (RFC 3339).
          type: str
          sample: "2023-09-21T18:56:32.624632Z"
        modified:
          description: When the resource last changed (RFC 3339).
          type: str
          sample: "2023-09-21T18:56:32.624632Z"
    spec:
      description:
        - The options of P(edgeops.cloudflare.share#module) that describe this share as it is, for an active share
          the account sent. C(share_id) is there only when another active share of the account has the same name.
        - Recipients and resources in a stable order; every resource with its C(meta).
      returned: with O(include_spec=true), for active sent shares
      type: dict
      sample:
        name: Shared WAF rules
        recipients:
          - account_id: 1b6f0e4a9c2d4e8f8a7b6c5d4e3f2a10
        resources:
          - resource_type: custom-ruleset
            resource_account_id: 023e105f4ecef8ad9ca31a8372d0c353
            resource_id: 0a1b2c3d4e5f40718293a4b5c6d7e8f9
            meta: {}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeops.cloudflare.plugins.module_utils._module import (
    common_argument_spec,
    run_module,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._model import RESOURCE_TYPES
from ansible_collections.edgeops.cloudflare.plugins.module_utils._share_info import (
    InfoQuery,
    filters_from_params,
    find_shares,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._validation import optional_hex_id

LIST_OPTIONS = ("name", "kind", "status", "target_type", "resource_types", "organization_id")


def argument_spec():
    spec = common_argument_spec()
    spec.update(
        share_id=dict(type="str"),
        name=dict(type="str"),
        kind=dict(type="str", choices=["sent", "received"]),
        status=dict(type="str", choices=["active", "deleting", "deleted"]),
        target_type=dict(type="str", choices=["account", "organization"]),
        resource_types=dict(type="list", elements="str", choices=list(RESOURCE_TYPES)),
        organization_id=dict(type="str"),
        include_recipients=dict(type="bool", default=False),
        include_resources=dict(type="bool", default=False),
        include_spec=dict(type="bool", default=False),
    )
    return spec


def run(task, connection, guard):
    params = task.params
    share_id = optional_hex_id(params, "share_id")
    organization_id = optional_hex_id(params, "organization_id")
    account_id = None if organization_id else connection.require_account()
    query = InfoQuery(
        share_id=share_id,
        name=params["name"],
        filters=filters_from_params(params),
        organization_id=organization_id,
        include_recipients=params["include_recipients"],
        include_resources=params["include_resources"],
        include_spec=params["include_spec"],
    )
    return {"changed": False, "shares": find_shares(task.client(connection, guard), query, account_id)}


RULES = dict(mutually_exclusive=[("share_id", option) for option in LIST_OPTIONS])
WRITES = False


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **RULES)
    run_module(module, run, writes=WRITES)


if __name__ == "__main__":
    main()
