"""An execution environment that includes edgeops.cloudflare: ``ansible-builder create`` writes a valid build
context for it, and the collection adds no Python or system requirements to the image.

``ansible-builder create`` only writes the context (Containerfile, _build/); the collection is installed and
introspected by the Containerfile's RUN steps during ``build``, which needs a container runtime. This test
runs those two steps here as the Containerfile states them: ``ansible-galaxy collection install -r
requirements.yml`` from ``_build`` (the image's /build) and ``_build/scripts/introspect.py introspect`` over
the installed collections, with the same ``--write-pip``/``--write-bindep`` outputs.

Needs ``ansible-builder`` (tests/requirements/ecosystem.txt).
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip(
    "ansible_builder", reason="ansible-builder is not installed (pip install -r tests/requirements/ecosystem.txt)"
)
from ansible_builder.ee_schema import validate_schema  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
TARBALL = "{}-{}-{}.tar.gz".format(GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
TIMEOUT = 120


def run(command, cwd, env=None):
    completed = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert completed.returncode == 0, f"{command}\n{completed.stdout}{completed.stderr}"
    return completed


def introspect(context, collections_dir, out_dir):
    """The build's introspection step: returns (printed data, {written file name: content})."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pip, bindep = out_dir / "requirements.txt", out_dir / "bindep.txt"
    completed = run(
        [
            sys.executable,
            context / "_build" / "scripts" / "introspect.py",
            "introspect",
            f"--write-bindep={bindep}",
            f"--write-pip={pip}",
            collections_dir,
        ],
        cwd=out_dir,
    )
    written = {path.name: path.read_text() for path in (pip, bindep) if path.exists()}
    return yaml.safe_load(completed.stdout.split("---", 1)[1]), written


@pytest.fixture(scope="module")
def ee(tmp_path_factory):
    """Build the tarball, define an EE that installs it, ``ansible-builder create`` it, then install the
    collection from the context as the image build would."""
    root = tmp_path_factory.mktemp("ee")
    env = dict(
        os.environ,
        ANSIBLE_HOME=str(root / "ansible-home"),
        ANSIBLE_NOCOLOR="1",
        PATH="{}{}{}".format(BIN, os.pathsep, os.environ.get("PATH", "")),
    )
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    dist = root / "dist"
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", dist, REPO_ROOT], cwd=root, env=env)
    tarball = dist / TARBALL
    assert tarball.is_file(), sorted(dist.iterdir())

    definition_dir = root / "definition"
    definition_dir.mkdir()
    requirements = {"collections": [{"name": "collections/" + TARBALL, "type": "file"}]}
    (definition_dir / "requirements.yml").write_text(yaml.safe_dump(requirements))
    definition = {
        "version": 3,
        "images": {"base_image": {"name": "quay.io/ansible/awx-ee:24.6.1"}},
        "dependencies": {"galaxy": "requirements.yml"},
        # Lands in the context as _build/collections/<tarball>, i.e. /build/collections/ in the image.
        "additional_build_files": [{"src": str(tarball), "dest": "collections"}],
    }
    (definition_dir / "execution-environment.yml").write_text(yaml.safe_dump(definition, sort_keys=False))
    context = root / "context"
    created = run(
        [
            BIN / "ansible-builder",
            "create",
            "--file",
            "execution-environment.yml",
            "--context",
            context,
            "--output-filename",
            "Containerfile",
        ],
        cwd=definition_dir,
        env=env,
    )

    # The galaxy stage: WORKDIR /build (the context's _build), collections into /usr/share/ansible/collections.
    collections_dir = root / "usr-share-ansible" / "collections"
    run(
        [
            BIN / "ansible-galaxy",
            "collection",
            "install",
            "-r",
            "requirements.yml",
            "--collections-path",
            collections_dir,
        ],
        cwd=context / "_build",
        env=dict(env, ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1"),
    )
    return {
        "root": root,
        "tarball": tarball,
        "definition": definition,
        "requirements": requirements,
        "context": context,
        "create_output": created.stdout + created.stderr,
        "collections_dir": collections_dir,
        "installed": collections_dir / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"],
    }


def test_collection_meta_declares_no_python_or_system_dependencies():
    meta = yaml.safe_load((REPO_ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"] == {}, meta  # a mapping: `python: []` or a null would break introspection
    validate_schema(dict(meta))  # a valid ansible-builder definition (version 3)
    assert meta["version"] == 3
    assert not (REPO_ROOT / "requirements.txt").exists() and not (REPO_ROOT / "bindep.txt").exists()


def test_create_writes_a_context_whose_containerfile_installs_the_collection(ee):
    context = ee["context"]
    assert "Complete! The build context can be found at" in ee["create_output"], ee["create_output"]
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/ansible/awx-ee:24.6.1"' in containerfile
    assert "COPY _build /build" in containerfile and "WORKDIR /build" in containerfile
    assert re.search(
        r"^RUN .*ansible-galaxy collection install .*-r requirements\.yml "
        r'--collections-path "/usr/share/ansible/collections"$',
        containerfile,
        re.M,
    ), containerfile
    assert re.search(
        r"^RUN \$PYCMD /output/scripts/introspect\.py introspect "
        r"--write-bindep=/tmp/src/bindep\.txt --write-pip=/tmp/src/requirements\.txt$",
        containerfile,
        re.M,
    ), containerfile
    # No requirements of the EE's own: nothing is passed to the introspection besides the collections.
    assert "--user-pip" not in containerfile and "--user-bindep" not in containerfile

    build = context / "_build"
    assert yaml.safe_load((build / "requirements.yml").read_text()) == ee["requirements"]
    copied = build / "collections" / TARBALL
    assert copied.is_file() and filecmp.cmp(copied, ee["tarball"], shallow=False)
    # `create` writes these only for the definition's own python/system dependencies: there are none.
    assert not (build / "requirements.txt").exists() and not (build / "bindep.txt").exists()
    assert (build / "scripts" / "introspect.py").is_file() and (build / "scripts" / "assemble").is_file()


def test_the_collection_installs_from_the_context_with_its_meta(ee):
    installed = ee["installed"]
    manifest = json.loads((installed / "MANIFEST.json").read_text())["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == (
        GALAXY["namespace"],
        GALAXY["name"],
        GALAXY["version"],
    )
    assert (installed / "meta" / "execution-environment.yml").read_text() == (
        REPO_ROOT / "meta" / "execution-environment.yml"
    ).read_text()
    assert sorted(path.name for path in (installed / "plugins" / "modules").glob("*.py")) == sorted(
        path.name for path in (REPO_ROOT / "plugins" / "modules").glob("*.py")
    )


def test_introspection_adds_no_python_or_system_requirements(ee):
    data, written = introspect(ee["context"], ee["collections_dir"], ee["root"] / "introspect")
    assert data == {"python": [], "system": []}
    assert written == {}  # the build's /tmp/src/requirements.txt and bindep.txt stay absent


def test_introspection_would_report_declared_requirements(ee, tmp_path):
    """Control: the same introspection, on a copy that declares requirements, does report them."""
    collections_dir = tmp_path / "collections"
    copy = collections_dir / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    shutil.copytree(ee["installed"], copy)
    (copy / "meta" / "execution-environment.yml").write_text(
        "version: 3\ndependencies:\n  python: requirements.txt\n  system: bindep.txt\n"
    )
    (copy / "requirements.txt").write_text("requests\n")
    (copy / "bindep.txt").write_text("gcc [compile]\n")
    data, written = introspect(ee["context"], collections_dir, tmp_path / "introspect")
    assert data["python"] == ["requests  # from collection edgeops.cloudflare"], data
    assert data["system"] == ["gcc [compile]  # from collection edgeops.cloudflare"], data
    assert set(written) == {"requirements.txt", "bindep.txt"}
