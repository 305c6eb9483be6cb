#!/usr/bin/env python
"""Usage: python scripts/ansible-test-bootstrap.py [--uv PATH]   (with the Python that has ansible-core installed)

Writes the pip bootstrap script that `ansible-test ... --venv` looks for in its cache,
~/.ansible/test/cache/get_pip_<version>.py, so that it never downloads get-pip.py: a stand-in
that installs the pip release that ansible-test pins from its wheel (fetched from the package
index with `pip download`). Does nothing when both are already there.

With --uv, the stand-in installs that wheel with uv rather than letting pip install itself,
which is cheaper in each of the virtual environments a cold `ansible-test sanity` creates.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import ansible_test

CACHE = Path("~/.ansible/test/cache").expanduser()
STUB = '''\
"""Stand-in for get-pip.py (written by edgeops.cloudflare scripts/ansible-test-bootstrap)."""
import os
import subprocess
import sys

WHEEL = {wheel!r}
UV = {uv!r}

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel") and not arg.startswith("pip")]
if UV and os.access(UV, os.X_OK):
    packages = [arg for arg in args if not arg.startswith("-")]
    command = [UV, "pip", "install", "--quiet", "--compile-bytecode", "--python", sys.executable, WHEEL, *packages]
    sys.exit(subprocess.call(command))
sys.path.insert(0, WHEEL)  # pip runs from its own wheel, as the real get-pip.py does
from pip._internal.cli.main import main  # noqa: E402

sys.exit(main(["install", "--no-warn-script-location", *args, WHEEL]))
'''


def main() -> int:
    uv = sys.argv[2] if sys.argv[1:2] == ["--uv"] and len(sys.argv) == 3 else None
    if sys.argv[1:] and not uv:
        sys.exit(__doc__)
    source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"""\bpip\s*=\s*['"]([0-9][0-9.]*)['"]""", source.read_text(encoding="utf-8"))
    if not match:
        sys.exit(f"ansible-test-bootstrap: no pinned pip version in {source}")
    version = match.group(1)
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = sorted(CACHE.glob(f"pip-{version}-*.whl"))
    if not wheels:
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--dest",
                    tmp,
                    f"pip=={version}",
                ],
                check=True,
            )
            (wheel,) = Path(tmp).glob("pip-*.whl")
            wheels = [wheel.replace(CACHE / wheel.name)]
    script = CACHE / f"get_pip_{version.replace('.', '_')}.py"
    content = STUB.format(wheel=str(wheels[-1]), uv=uv)
    if not script.exists() or script.read_text(encoding="utf-8") != content:
        fd, tmp_script = tempfile.mkstemp(dir=CACHE, suffix=".tmp")  # rows may run this at the same time
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(tmp_script, script)
    print(f"ansible-test-bootstrap: {script} installs pip {version} from {wheels[-1].name}{' with uv' if uv else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
