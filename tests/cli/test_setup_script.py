"""`bin/setup` gives a fresh machine a current setuptools (issue 12, item 16): Python's bundled 65.5.0 has
CVE-2022-40897 and PYSEC-2025-49 (fixed in 78.1.1)."""

from __future__ import annotations

import re
import subprocess
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_setup_creates_the_venv_with_upgraded_deps_and_a_current_setuptools() -> None:
    script = (ROOT / "bin" / "setup").read_text(encoding="utf-8")
    assert re.search(r'-m venv --upgrade-deps \.venv', script)
    assert '"setuptools>=78.1.1"' in script
    assert subprocess.run(["bash", "-n", str(ROOT / "bin" / "setup")], check=False).returncode == 0
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"setuptools>=78.1.1"' in pyproject.split("[project.optional-dependencies]", 1)[1].split("]", 1)[0]


def test_the_installed_setuptools_is_not_a_vulnerable_one() -> None:
    assert _release(version("setuptools")) >= (78, 1, 1)
