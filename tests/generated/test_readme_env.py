"""The generated app's README documents every environment variable its code reads."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

READS = re.compile(r"""\b(?:env|environ|os\.environ)(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']|\bgetenv\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _variables_read(app_dir: Path) -> set[str]:
    names: set[str] = set()
    for path in (app_dir / "app").rglob("*.py"):
        for match in READS.finditer(path.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    return names


@pytest.mark.parametrize("name", ["sample", "teams", "korean"])
def test_readme_documents_every_environment_variable(name: str, generated_app: Callable[[str], Path]) -> None:
    app_dir = generated_app(name)
    read = _variables_read(app_dir)
    assert {"DATABASE_URL", "SECRET_KEY", "SMTP_URL", "MAIL_FROM"} <= read, f"the scan found too little: {read}"
    readme = (app_dir / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `"))
    missing = sorted(v for v in read if f"`{v}`" not in table)
    assert not missing, f"{name}: README's environment table lacks {missing}"
