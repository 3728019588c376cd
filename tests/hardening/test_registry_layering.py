"""The registry (bottom layer) names no loader of a higher layer: kinds are registered by the package
that owns them, as callables, and the registry package imports no module dynamically."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from underwriting.errors import InputError

PKG = Path(__file__).resolve().parents[2] / "underwriting" / "registry"


def test_registry_package_has_no_dynamic_imports_and_no_higher_module_names():
    for path in sorted(PKG.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "import_module", "__import__"):
                pytest.fail(f"{path.name}: dynamic import")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert "underwriting.lifecycle" not in node.value, path.name
                assert not node.value.startswith(("underwriting.scoring", "underwriting.survival")), path.name


def test_owning_packages_register_their_kinds_as_callables():
    import underwriting.scoring
    import underwriting.survival
    from underwriting.registry import KINDS, register_kind

    assert {"risk_scorer", "survival"} <= set(KINDS)
    assert KINDS["risk_scorer"].loader.__module__ == underwriting.scoring.__name__
    assert KINDS["survival"].loader.__module__.startswith(underwriting.survival.__name__)
    with pytest.raises(InputError, match="callable"):
        register_kind("other_kind", "underwriting.x:load")
