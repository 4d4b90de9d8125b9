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
    """Import ``<addon>/tools/<module>.py`` without Odoo and return it.

    ``<addon>/tools`` is loaded as a package of its own (``_dunning_tools_<addon>``, without the
    addon's ``__init__``, which needs Odoo), so a tool imports its siblings as it does inside Odoo:
    ``from .send_window import Fact``.
    """
    package = f"_dunning_tools_{addon}"
    if package not in sys.modules:
        tools = REPO / addon / "tools"
        spec = importlib.util.spec_from_file_location(
            package, tools / "__init__.py", submodule_search_locations=[str(tools)])
        pkg = importlib.util.module_from_spec(spec)
        sys.modules[package] = pkg
        spec.loader.exec_module(pkg)
    return importlib.import_module(f"{package}.{module}")
