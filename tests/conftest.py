"""Shared helpers for the top-level tests.

Pure helpers of the addons (``<addon>/tools/*.py``) take no ``env`` and import nothing from Odoo,
so they are loaded straight from their files: the same tests run inside the full suite (where
pytest-odoo has imported Odoo) and alone, without any Odoo (``pytest -p no:odoo tests/unit``).
"""
import importlib.util
import sys
from pathlib import Path

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
