"""secrets-layout: the one import namespace of the distribution.

``secrets_layout.components`` (the Pulumi components), ``secrets_layout.policies`` (the CrossGuard
pack) and ``secrets_layout.rotation`` (the rotation function's code, shipped as package data) live in
the repository's top-level folders components/, policies/ and rotation/ (SPEC section 2);
pyproject.toml's ``package-dir`` maps them into this package for wheels and editable installs.

In a checkout used without installing it (``PYTHONPATH=.``, ``pulumi up`` from the repository) that
mapping does not exist, so the repository's top is added after this folder to the package's search
path: ``secrets_layout.components`` is then ``components/``, the same files an install maps.  Only
when the folder above really is this repository (pyproject.toml names it next to components/).
"""

from __future__ import annotations

import os as _os

_TOP = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if (_os.path.isfile(_os.path.join(_TOP, "components", "__init__.py"))
        and _os.path.isfile(_os.path.join(_TOP, "policies", "PulumiPolicy.yaml"))
        and _os.path.isfile(_os.path.join(_TOP, "pyproject.toml"))
        and not _os.path.isdir(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "components"))):
    __path__.append(_TOP)  # noqa: F821 - a package's __path__, set by the import system
del _os, _TOP
