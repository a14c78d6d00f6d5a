"""The package layout is the architecture: checked on the imports themselves."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "xmodal"


def imports_of(folder: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (PACKAGE / folder).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(PACKAGE))] = names
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in imports_of(folder).items()
        for name in names
        if name.startswith(forbidden)
    )


def test_only_the_store_speaks_sql() -> None:
    for folder in ("search", "indexer", "api", "encoders"):
        assert offenders(folder, ("sqlalchemy", "alembic")) == []


def test_core_packages_never_import_the_entry_points() -> None:
    for folder in ("store", "search", "indexer", "encoders"):
        assert offenders(folder, ("xmodal.api", "xmodal.cli", "xmodal.engine")) == []


def test_a_search_from_the_command_line_loads_neither_the_api_nor_alembic() -> None:
    import subprocess
    import sys

    code = (
        "import sys, xmodal.cli, xmodal.engine, xmodal.search, xmodal.indexer, xmodal.store;"
        "print(sorted(m for m in ('xmodal.api', 'fastapi', 'uvicorn', 'alembic') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
