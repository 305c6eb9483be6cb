"""The shared documentation: every module's ``resource_type`` says what the ``resource_type`` fragment says,
and every list of resource types in the docs is ``RESOURCE_TYPES``, the list the argument specs use.

Doc fragments merge only top-level options, so ``share`` and ``shares``, which nest ``resource_type`` in
their ``resources``, repeat the fragment's text; these tests hold every copy to it.
"""

from __future__ import annotations

import importlib

import pytest
import yaml

from ansible_collections.edgeops.cloudflare.plugins.doc_fragments.api import ModuleDocFragment
from ansible_collections.edgeops.cloudflare.plugins.module_utils._model import RESOURCE_TYPES

MODULES = ("share", "share_info", "share_recipient", "share_resource", "shares")
FRAGMENT_PREFIX = "edgeops.cloudflare.api"


def fragment_options(name):
    """The options of one of this collection's fragments (``edgeops.cloudflare.api`` or ``...api.<part>``)."""
    attribute = name[len(FRAGMENT_PREFIX) + 1 :].upper() or "DOCUMENTATION"
    return yaml.safe_load(getattr(ModuleDocFragment, attribute)).get("options", {})


def module_options(module_name):
    """A module's options with its fragments merged in (top level only, as ansible-doc merges them)."""
    documentation = yaml.safe_load(
        importlib.import_module("ansible_collections.edgeops.cloudflare.plugins.modules." + module_name).DOCUMENTATION
    )
    options = dict(documentation.get("options", {}))
    for fragment in documentation.get("extends_documentation_fragment", []):
        assert fragment.startswith(FRAGMENT_PREFIX), fragment
        options.update(fragment_options(fragment))
    return options


def walk(options, path=()):
    """Every (path, option) of an options tree, sub-options included."""
    for name, option in options.items():
        yield path + (name,), option
        yield from walk(option.get("suboptions", {}), path + (name,))


RESOURCE_TYPE = fragment_options(FRAGMENT_PREFIX + ".resource_type")["resource_type"]


def test_the_fragment_lists_exactly_the_resource_types_of_the_code():
    assert RESOURCE_TYPE["choices"] == list(RESOURCE_TYPES)


@pytest.mark.parametrize("module_name", MODULES)
def test_every_resource_type_option_says_what_the_fragment_says(module_name):
    found = [(path, option) for path, option in walk(module_options(module_name)) if path[-1] == "resource_type"]
    for path, option in found:
        assert option == RESOURCE_TYPE, "{}: {} differs from the resource_type fragment".format(
            module_name, ".".join(path)
        )
    expected = {"share": 1, "shares": 1, "share_resource": 1}.get(module_name, 0)
    assert len(found) == expected, [".".join(path) for path, _option in found]


def test_the_resource_types_filter_offers_every_resource_type():
    option = module_options("share_info")["resource_types"]
    assert option["choices"] == list(RESOURCE_TYPES)
