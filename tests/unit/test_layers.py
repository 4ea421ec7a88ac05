"""The layers import downwards only: the pure cores know no adapters, adapters know no API or handler."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: package -> packages it must not import (prefixes of module names).
RULES: dict[str, tuple[str, ...]] = {
    "lambdas/contract.py": ("lambdas.", "boto3", "PIL", "numpy", "pydantic", "fastapi"),
    "lambdas/imaging": ("lambdas.domain", "lambdas.api", "lambdas.adapters", "lambdas.handlers", "lambdas.steps"),
    "lambdas/domain": ("lambdas.api", "lambdas.adapters", "lambdas.handlers", "lambdas.steps", "PIL", "boto3"),
    "lambdas/ports.py": ("lambdas.api", "lambdas.adapters", "lambdas.handlers", "boto3"),
    "lambdas/adapters": ("lambdas.api", "lambdas.handlers", "imgmgr"),
    "imgmgr/adapters": ("lambdas.api", "lambdas.handlers"),
    "lambdas/analytics": ("lambdas.adapters", "lambdas.api", "lambdas.handlers", "boto3"),
}
#: Exceptions to the rules: the image core's errors are part of the domain's error hierarchy.
ALLOWED: dict[str, tuple[str, ...]] = {"lambdas/imaging": ("lambdas.domain.errors",)}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(RULES))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    target = ROOT / layer
    files = [target] if target.is_file() else sorted(target.rglob("*.py"))
    assert files
    broken = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in _imports(path) - set(ALLOWED.get(layer, ()))
        for banned in RULES[layer]
        if name == banned.rstrip(".") or name.startswith(banned if banned.endswith(".") else banned + ".")
    }
    assert not broken, sorted(broken)
