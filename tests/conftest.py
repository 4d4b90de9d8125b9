"""Shared helpers for the top-level tests.

Pure helpers of the addons (``<addon>/tools/*.py``) take no ``env`` and import nothing from Odoo,
so they are loaded straight from their files: the same tests run inside the full suite (where
pytest-odoo has imported Odoo) and alone, without any Odoo (``pytest -p no:odoo tests/unit``).
"""
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

# Hypothesis (the property tests of unit/) leaves nothing in the repository: no example database
# (``database=None``: a failure prints its falsifying example and seed), and its caches (Unicode
# tables, constants drawn from the source), kept in ``./.hypothesis`` by default, go to the
# system's temporary directory unless HYPOTHESIS_STORAGE_DIRECTORY says where. No deadline and no
# "too slow" health check, as every property test asks: a draw stalled on a busy machine is not
# a failure of the rule under test.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY",
    os.path.join(tempfile.gettempdir(), f"dunning-hypothesis-{os.getuid()}"))

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "dunning", database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("dunning")

REPO = Path(__file__).resolve().parent.parent


def load_tool(addon, module):
    """Import ``<addon>/tools/<module>.py`` as a standalone module and return it."""
    name = f"_dunning_tools_{addon}_{module}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / addon / "tools" / f"{module}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
