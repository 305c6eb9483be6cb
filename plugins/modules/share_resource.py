#!/usr/bin/python
# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: share_resource
short_description: Manage one resource of a Cloudflare resource share
version_added: 0.1.0
description:
  - Adds, updates or removes one resource of an existing Cloudflare resource share, never touching the other resources.
  - For teams that own only their part of a share, for example a security team adding its ruleset.
  - A resource's identity is (O(resource_type), O(resource_account_id), O(resource_id)); a changed O(meta) is
    updated in place.
author:
  - edgeops.cloudflare maintainers (@edgeops)
options:
  resource_id:
    description:
      - The id of the shared object (for example a ruleset id). Its format depends on the type and is checked by the API.
    type: str
    required: true
  resource_account_id:
    description:
      - The account that owns the shared object. Defaults to O(account_id).
    type: str
  meta:
    description:
      - Free-form metadata of the share resource, a mapping (in YAML, as JSON, or in C(key=value) form).
      - If omitted, an existing resource's metadata is left as it is, and a new resource gets V({}).
    type: dict
  state:
    description:
      - Whether the resource should be in the share.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - edgeops.cloudflare.api
  - edgeops.cloudflare.api.share_part
  - edgeops.cloudflare.api.resource_type
  - edgeops.cloudflare.api.attributes
attributes:
  check_mode:
    description: Reports the change without making any write request.
    support: full
  diff_mode:
    description: Shows the share resource before and after.
    support: full
seealso:
  - module: edgeops.cloudflare.share
  - module: edgeops.cloudflare.share_recipient
"""

EXAMPLES = r"""
- name: Add the security team's ruleset to a share
  edgeops.cloudflare.share_resource:
    share_name: Shared WAF rules
    resource_type: custom-ruleset
    resource_id: 1b2c3d4e5f40718293a4b5c6d7e8f9a0
    meta:
      owner: security

- name: Remove a Gateway policy from a share known by id
  edgeops.cloudflare.share_resource:
    share_id: 3fd85f74b32742f1bff64a85009dda07
    resource_type: gateway-policy
    resource_id: 6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b
    state: absent
"""

RETURN = r"""
share_id:
  description: The id of the share.
  returned: always
  type: str
  sample: 3fd85f74b32742f1bff64a85009dda07
resource:
  description:
    - The share resource as the API describes it; after a removal, its record in C(deleting) status.
      Empty when the share never had it.
    - In check mode, the predicted resource (a new one has a null V(id)).
  returned: always
  type: dict
  contains:
    id:
      description: The share-resource id (not the shared object's id).
      type: str
    resource_id:
      description: The shared object's id.
      type: str
    resource_account_id:
      description: The account that owns the shared object.
      type: str
    resource_type:
      description: The kind of object shared.
      type: str
    resource_version:
      description: The version of the share resource.
      type: int
    meta:
      description: The share resource's metadata.
      type: dict
    status:
      description: V(active), V(deleting) or V(deleted).
      type: str
    created:
      description: When the resource was added.
      type: str
    modified:
      description: When the resource last changed.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeops.cloudflare.plugins.module_utils._module import (
    SHARE_PART_RULES,
    run_module,
    share_part_argument_spec,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._api import ShareApi
from ansible_collections.edgeops.cloudflare.plugins.module_utils._model import RESOURCE_TYPES, resource_picker
from ansible_collections.edgeops.cloudflare.plugins.module_utils._planner import check_resource_fields, plan_resource
from ansible_collections.edgeops.cloudflare.plugins.module_utils._share import ShareRequest, converge_part
from ansible_collections.edgeops.cloudflare.plugins.module_utils._validation import check_share_name, optional_hex_id


def argument_spec():
    spec = share_part_argument_spec()
    spec.update(
        resource_id=dict(type="str", required=True),
        resource_type=dict(type="str", required=True, choices=list(RESOURCE_TYPES)),
        resource_account_id=dict(type="str"),
        meta=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    return spec


def run(task, connection, guard):
    params = task.params
    account_id = connection.require_account()
    share_id = optional_hex_id(params, "share_id")
    check_share_name("share_name", params["share_name"])
    key = check_resource_fields(params, "", account_id)
    present = params["state"] == "present"
    api = ShareApi(task.client(connection, guard), account_id)
    request = ShareRequest(name=params["share_name"], share_id=share_id, present=present, check_mode=task.check_mode)
    result = converge_part(
        api, request, lambda share: plan_resource(share, key, params["meta"], present), resource_picker(key), "resource"
    )
    if not task.diff:
        del result["diff"]
    return result


RULES = SHARE_PART_RULES
WRITES = True


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **RULES)
    run_module(module, run, writes=WRITES)


if __name__ == "__main__":
    main()
