"""Each generated app passes its own pytest suite, in the shared uv venv, with a scrubbed env."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Venv, run_app_suite

# The wide app has the most tests: stop at its first failure to keep the run short.
SUITE_ARGS = {"sample": ["-q"], "wide": ["-x", "-q"], "i18n": ["-q"], "reserved": ["-q"], "teams": ["-q"],
              "invoices": ["-q"], "bookings": ["-q"], "tasks": ["-q"], "korean": ["-q"]}


@pytest.mark.parametrize("name", list(SUITE_ARGS))
def test_generated_app_suite_passes(name: str, generated_app: Callable[[str], Path], app_venv: Venv,
                                    tmp_path: Path) -> None:
    app_dir = generated_app(name)
    requirements = (app_dir / "requirements.txt").read_text()
    assert requirements == app_venv.requirements, (
        f"{name}: requirements.txt differs from the sample app's; the shared venv does not fit it"
    )
    proc = run_app_suite(app_dir, app_venv, tmp_path / "home", *SUITE_ARGS[name])
    assert proc.returncode == 0, f"{name} app's suite failed:\n{proc.stdout[-12000:]}\n{proc.stderr[-4000:]}"
    assert " passed" in proc.stdout and " failed" not in proc.stdout, proc.stdout[-2000:]
