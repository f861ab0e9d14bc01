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
import shutil
import site
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TEAM_FILE = """\
secrets:
  - name: acme/orders/api-token
    kind: api-key
    value: {external: true}
    rotation: {enabled: false, reason: the vendor has no rotation API}
    readers: [{account: app, roles: [OrdersRole]}]
"""
"""A team's secret in a user's repository (environment acme, its account `app`)."""


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


def plain_venv(folder: Path, requirements: list[str]) -> Path:
    """A new virtual environment that sees only the distributions `requirements` bring (with their own
    requirements, no extras), linked from this interpreter's site-packages: what `pip install` of a
    distribution without extras gives it, offline. Anything else (the Pulumi SDK, gRPC, boto3) is
    not installed there, for importlib's finders as for `import`. Its python."""
    import importlib.metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    python = bare_venv(folder)
    own = site_packages(python)
    (own / "shared-test-dependencies.pth").unlink()
    visible = folder / "plain-dependencies"
    visible.mkdir()
    wanted, seen = [Requirement(text) for text in requirements], set()
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker is not None and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        distribution = importlib.metadata.distribution(name)
        wanted.extend(Requirement(text) for text in distribution.requires or [])
        top = {Path(str(file)).parts[0] for file in distribution.files or [] if not str(file).startswith("..")}
        base = Path(str(distribution.locate_file("")))
        for entry in top:
            if (base / entry).exists() and not (visible / entry).exists():
                (visible / entry).symlink_to(base / entry)
    (own / "plain-dependencies.pth").write_text(f"{visible}\n")
    return python


def virtualenv_python(folder: Path, project_file: str) -> Path:
    """The python the Pulumi CLI runs a project (Pulumi.yaml) or a policy pack (PulumiPolicy.yaml) with:
    `runtime.options.virtualenv`, relative to the file's folder, and its bin/python (pulumi/pulumi
    sdk/python/toolchain: a relative virtualenv is taken from the project's or the pack's root)."""
    import yaml

    runtime = yaml.safe_load((folder / project_file).read_text())["runtime"]
    assert runtime["name"] == "python"
    return folder / runtime["options"]["virtualenv"] / "bin" / "python"


def copy_of_the_checkout(destination: Path) -> Path:
    """The files git knows (tracked or not ignored): what a clone plus the working tree's changes hold."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination
