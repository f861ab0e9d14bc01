"""Entry point of the CrossGuard policy pack: builds the PolicyPack, which serves until killed.

The Pulumi CLI starts a Python pack as ``python -u -m pulumi.policy <engine> <pack dir>``, which runs
this file with ``runpy.run_path`` (the pack directory first on ``sys.path``, no package context);
``secrets_layout``'s analyzer client starts it as ``python -u policies/__main__.py``.  Either way the
rule modules are loaded below as the package ``policies`` from this directory (so their relative
imports work whatever the directory is called and whatever else is on ``sys.path``), and the
directory itself is taken off ``sys.path`` so its modules cannot shadow others by name.  Installed, the
folder is site-packages/secrets_layout/policies (``secrets_layout.policies`` to importers), and the pack
still loads it as ``policies`` from here: a ``policies`` package of the user's own cannot shadow it.

Nothing may be printed to stdout before PolicyPack prints its port: the CLI reads that line.
"""

import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = "policies"


def _load_package():
    existing = sys.modules.get(_PACKAGE)
    if existing is not None and os.path.dirname(os.path.abspath(getattr(existing, "__file__", "") or "")) == _HERE:
        return existing
    spec = importlib.util.spec_from_file_location(
        _PACKAGE, os.path.join(_HERE, "__init__.py"), submodule_search_locations=[_HERE])
    module = importlib.util.module_from_spec(spec)
    sys.modules[_PACKAGE] = module
    spec.loader.exec_module(module)
    return module


sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
_load_package()

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.pack import PACK_DESCRIPTION, PACK_NAME, build_policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),
)
