#!/usr/bin/env python
"""Provide the pip bootstrap script that `ansible-test --venv` looks for.

Every `ansible-test ... --venv` run bootstraps pip into each virtual environment it
creates with a `get-pip.py` script. It first looks in its cache,
``~/.ansible/test/cache/get_pip_<version>.py`` (``<version>`` = the pip release the
installed ansible-test pins, dots turned into underscores), and otherwise downloads the
script from a host that is not reachable from these machines, then fails with
"does not have pip available".

This script (run it with the Python that has ansible-core installed, i.e. the project
venv) finds the pinned pip version from the installed ansible-test itself, fetches that
pip release's wheel from the package index with
``pip download --no-deps pip==<version>`` into the cache, and writes a small
``get_pip_<version>.py`` that runs pip from that wheel to install it. Idempotent: it
does nothing when both files are already in place and current; it never overwrites a
cached get-pip script that it did not write itself (e.g. the official one).

Usage: scripts/ansible-test-bootstrap [--python-version 3.12] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import types

MARKER = "# written by edgeops.cloudflare scripts/ansible-test-bootstrap"

TEMPLATE = '''\
#!/usr/bin/env python
{marker}
"""Stand-in for get-pip.py: installs pip {version} from a wheel in this directory.

ansible-test runs this file (via runpy) with pip-install style arguments such as
`--disable-pip-version-check pip=={version} --no-setuptools --no-wheel`.
"""
import os
import sys

VERSION = {version!r}
WHEEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), {wheel!r})

# Options of the real get-pip.py that `pip install` does not know.
GET_PIP_ONLY = {{"--no-setuptools", "--no-wheel"}}


def main():
    if not os.path.isfile(WHEEL):
        sys.exit("pip wheel missing: %s (re-run scripts/ansible-test-bootstrap)" % WHEEL)
    args = []
    for arg in sys.argv[1:]:
        if arg in GET_PIP_ONLY:
            continue
        if arg.replace(" ", "") in ("pip==" + VERSION, "pip"):
            arg = WHEEL  # install this exact release from the local wheel
        args.append(arg)
    if WHEEL not in args:
        args.append(WHEEL)
    sys.path.insert(0, WHEEL)  # pip runs from its own wheel, as the real get-pip.py does
    from pip._internal.cli.main import main as pip_main

    return pip_main(["install", "--no-warn-script-location"] + args)


if __name__ == "__main__":
    sys.exit(main())
'''


def log(msg: str) -> None:
    print("ansible-test-bootstrap: %s" % msg, file=sys.stderr)


def pinned_pip_version(python_version: str) -> str:
    """Return the pip version the installed ansible-test bootstraps into its venvs."""
    try:
        from ansible_test._internal.python_requirements import get_venv_packages

        packages = get_venv_packages(types.SimpleNamespace(version=python_version))
        return packages["pip"]
    except Exception as ex:  # internal API: fall back to reading the source
        log("get_venv_packages() unavailable (%s); reading the pin from the source" % ex)
    try:
        import ansible_test
    except ImportError:
        sys.exit("ansible-test-bootstrap: ansible_test is not importable with %s;"
                 " run it with the project venv's python (make venv)" % sys.executable)
    path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(path, encoding="utf-8") as f:
        match = re.search(r"""\bpip\s*=\s*['"]([0-9][0-9.]*)['"]""", f.read())
    if not match:
        sys.exit("ansible-test-bootstrap: cannot find the pinned pip version in %s" % path)
    return match.group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python-version", default="%d.%d" % sys.version_info[:2],
                        help="target Python version ansible-test will use (default: this one)")
    parser.add_argument("--cache-dir", default=os.path.expanduser("~/.ansible/test/cache"),
                        help="ansible-test's cache directory (default: %(default)s)")
    args = parser.parse_args()

    version = pinned_pip_version(args.python_version)
    cache = args.cache_dir
    os.makedirs(cache, exist_ok=True)
    script = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))

    wheels = sorted(glob.glob(os.path.join(cache, "pip-%s-*.whl" % version)))
    if not wheels:
        log("downloading the pip %s wheel into %s" % (version, cache))
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
                 "--only-binary=:all:", "--dest", tmp, "pip==%s" % version],
                check=True, stdout=subprocess.DEVNULL,
            )
            got = glob.glob(os.path.join(tmp, "pip-%s-*.whl" % version))
            if len(got) != 1:
                sys.exit("ansible-test-bootstrap: expected one pip %s wheel, got %r" % (version, got))
            os.replace(got[0], os.path.join(cache, os.path.basename(got[0])))
            wheels = [os.path.join(cache, os.path.basename(got[0]))]
    wheel = os.path.basename(wheels[-1])

    content = TEMPLATE.format(marker=MARKER, version=version, wheel=wheel)
    if os.path.exists(script):
        with open(script, encoding="utf-8", errors="replace") as f:
            current = f.read()
        if current == content:
            log("up to date: %s (pip %s from %s)" % (script, version, wheel))
            return 0
        if MARKER not in current:
            log("keeping existing %s (not written by this script)" % script)
            return 0
    # A unique temporary name: several matrix rows may bootstrap at the same time.
    fd, tmp_script = tempfile.mkstemp(dir=cache, prefix=".get_pip_", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(content)
    os.chmod(tmp_script, 0o644)
    os.replace(tmp_script, script)
    log("wrote %s (pip %s from %s)" % (script, version, wheel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
