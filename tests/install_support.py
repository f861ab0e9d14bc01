"""Fresh virtual environments outside the checkout, fast and offline.

`python -m venv --without-pip` makes an empty environment in a second. Its dependencies come from
the environment running the tests: a .pth file in the new site-packages names that environment's
site-packages folders (taken from `site.getsitepackages()` of this interpreter, never hard-coded).
Python adds a .pth file's lines to sys.path but does not process the .pth files in the folders it
names (https://docs.python.org/3/library/site.html: only site directories are scanned), so the
test environment's own editable install of this checkout (a .pth hook there) is NOT active in the
new environment: `secrets_layout` is importable there only if it was installed there.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path


def bare_venv(folder: Path) -> Path:
    """A new virtual environment seeing this interpreter's packages; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, capture_output=True)
    python = folder / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout.strip()
    shared = [path for path in site.getsitepackages() if Path(path).is_dir()]
    (Path(own) / "shared-test-dependencies.pth").write_text("".join(f"{path}\n" for path in shared))
    return python


def clean_environment(**extra: str) -> dict[str, str]:
    """The environment without this checkout on PYTHONPATH (the suite runs with PYTHONPATH=<checkout>)."""
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    environment.update(extra)
    return environment


def site_packages(python: Path) -> Path:
    return Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
