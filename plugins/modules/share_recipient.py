#!/usr/bin/python
# Copyright (c) 2026, edgeops.cloudflare contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: share_recipient
short_description: Manage one recipient of a Cloudflare resource share
version_added: 0.1.0
description:
  - Adds or removes one recipient of an existing Cloudflare resource share, never touching the other recipients.
  - For teams that own only their part of a share, for example a partner team adding its own account.
  - A recipient that is C(disassociating) or C(disassociated) counts as absent and is added again with O(state=present).
author:
  - edgeops.cloudflare maintainers (@edgeops)
options:
  recipient_account_id:
    description:
      - The receiving account, for a share that targets accounts.
      - Mutually exclusive with O(recipient_organization_id); one of them is required.
    type: str
  recipient_organization_id:
    description:
      - The owner's organization, for a share that targets the whole organization. Such a share always has this
        recipient, so O(state=present) only checks it, and O(state=absent) is refused (delete the share instead).
      - Mutually exclusive with O(recipient_account_id); one of them is required.
    type: str
  state:
    description:
      - Whether the recipient should be associated with the share.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until the recipient is C(associated) (present) or C(disassociated) (absent).
      - Fails at once when Cloudflare reports a terminal association error for it (it will not retry);
        a timeout names the errors it is still retrying.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait when O(wait=true); the task fails when they pass.
    type: int
    default: 300
extends_documentation_fragment:
  - edgeops.cloudflare.api
  - edgeops.cloudflare.api.share_part
  - edgeops.cloudflare.api.attributes
attributes:
  check_mode:
    description: Reports the change without making any write request.
    support: full
  diff_mode:
    description: Shows the recipient before and after.
    support: full
seealso:
  - module: edgeops.cloudflare.share
  - module: edgeops.cloudflare.share_resource
"""

EXAMPLES = r"""
- name: Add our account as a recipient of the security team's share
  edgeops.cloudflare.share_recipient:
    share_name: Shared WAF rules
    recipient_account_id: 3d8b2a6c1e4f4a0bac9d8e7f6a5b4c32
    wait: true

- name: Remove a recipient from a share known by id
  edgeops.cloudflare.share_recipient:
    share_id: 3fd85f74b32742f1bff64a85009dda07
    recipient_account_id: 3d8b2a6c1e4f4a0bac9d8e7f6a5b4c32
    state: absent
"""

RETURN = r"""
share_id:
  description: The id of the share.
  returned: always
  type: str
  sample: 3fd85f74b32742f1bff64a85009dda07
recipient:
  description:
    - The recipient as the API describes it; after a removal, its record in C(disassociating) (or C(disassociated))
      status. Empty when the account never was a recipient.
    - For O(recipient_organization_id), the organization the share targets.
    - In check mode, the predicted recipient (a new one has a null V(id)).
  returned: always
  type: dict
  contains:
    id:
      description: The recipient id.
      type: str
      sample: 5e2a0b6c7d8e4f90a1b2c3d4e5f60718
    account_id:
      description: The receiving account.
      type: str
      sample: 3d8b2a6c1e4f4a0bac9d8e7f6a5b4c32
    association_status:
      description: V(associating), V(associated), V(disassociating) or V(disassociated).
      type: str
      sample: associated
    organization_id:
      description: The organization an organization share targets (only for O(recipient_organization_id)).
      type: str
    created:
      description: When the recipient was added.
      type: str
    modified:
      description: When the recipient last changed.
      type: str
    resources:
      description:
        - The recipient's association of each resource of the share, with C(error) (empty when none; for example
          V(Recipient is missing necessary entitlement)) and C(terminal) (V(false) while Cloudflare keeps retrying).
        - With O(wait=true), a terminal error fails the task at once, naming the account, the resource and the error.
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeops.cloudflare.plugins.module_utils._module import (
    SHARE_PART_RULES,
    run_module,
    share_part_argument_spec,
)
from ansible_collections.edgeops.cloudflare.plugins.module_utils._api import ShareApi
from ansible_collections.edgeops.cloudflare.plugins.module_utils._model import recipient_picker
from ansible_collections.edgeops.cloudflare.plugins.module_utils._planner import plan_recipient
from ansible_collections.edgeops.cloudflare.plugins.module_utils._share import ShareRequest, converge_part
from ansible_collections.edgeops.cloudflare.plugins.module_utils._validation import (
    check_share_name,
    check_wait_timeout,
    optional_hex_id,
)


def argument_spec():
    spec = share_part_argument_spec()
    spec.update(
        recipient_account_id=dict(type="str"),
        recipient_organization_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )
    return spec


def run(task, connection, guard):
    params = task.params
    account_id = connection.require_account()
    share_id = optional_hex_id(params, "share_id")
    check_share_name("share_name", params["share_name"])
    recipient = optional_hex_id(params, "recipient_account_id")
    organization = optional_hex_id(params, "recipient_organization_id")
    check_wait_timeout(params)
    present = params["state"] == "present"
    api = ShareApi(task.client(connection, guard), account_id)
    request = ShareRequest(
        name=params["share_name"],
        share_id=share_id,
        present=present,
        check_mode=task.check_mode,
        wait=params["wait"],
        wait_timeout=params["wait_timeout"],
        wait_accounts=None if recipient is None else {recipient},
    )
    result = converge_part(
        api,
        request,
        lambda share: plan_recipient(share, recipient, organization, present),
        recipient_picker(recipient),
        "recipient",
    )
    if not task.diff:
        del result["diff"]
    return result


RULES = dict(
    mutually_exclusive=SHARE_PART_RULES["mutually_exclusive"] + [("recipient_account_id", "recipient_organization_id")],
    required_one_of=SHARE_PART_RULES["required_one_of"] + [("recipient_account_id", "recipient_organization_id")],
)
WRITES = True


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **RULES)
    run_module(module, run, writes=WRITES)


if __name__ == "__main__":
    main()
