"""The sample app's Dockerfile, deploy workflow, alert rules and dashboard pass real linters."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import require_tool, run


@pytest.fixture(scope="module")
def sample(generated_app: Callable[[str], Path]) -> Path:
    return generated_app("sample")


def test_hadolint_dockerfile(sample: Path) -> None:
    run([require_tool("hadolint"), "Dockerfile"], cwd=sample)


def test_actionlint_deploy_workflow(sample: Path) -> None:
    run([require_tool("actionlint"), "deploy/deploy.yml"], cwd=sample)


def test_zizmor_deploy_workflow(sample: Path) -> None:
    # Offline: no GitHub API lookups; the audits that need none (pinning, permissions,
    # persisted credentials, template injection, cache poisoning) all run.
    proc = run([require_tool("zizmor"), "--offline", "--no-progress", "deploy/deploy.yml"], cwd=sample)
    assert "No findings to report" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_promtool_alert_rules(sample: Path) -> None:
    proc = run([require_tool("promtool"), "check", "rules", "monitoring/alerts.yml"], cwd=sample)
    assert "SUCCESS" in proc.stdout + proc.stderr


def _panels(panels: list[dict]) -> Iterator[dict]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows hold their panels


def dashboard_queries(path: Path) -> dict[str, list[str]]:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    queries = {}
    for panel in _panels(dashboard.get("panels", [])):
        exprs = [t.get("expr", "") for t in panel.get("targets", []) if t.get("expr")]
        if exprs:
            queries[panel.get("title", "")] = exprs
    return queries


# What the dashboard must show, as a pattern one query of some panel matches.
REQUIRED_QUERIES = {
    "request rate": r"rate\(\s*http_requests_total\b",
    "error rate": r"http_requests_total\{[^}]*status=~\"5",
    "latency": r"histogram_quantile\(\s*0?\.\d+\s*,.*http_request_duration_seconds_bucket",
    "CPU": r"rate\(\s*process_cpu_seconds_total\b",
    "memory": r"process_resident_memory_bytes\b",
}


def test_grafana_dashboard_covers_the_golden_signals(sample: Path) -> None:
    queries = dashboard_queries(sample / "monitoring/grafana-dashboard.json")
    assert queries, "the dashboard has no panel with a query"
    every = [expr for exprs in queries.values() for expr in exprs]
    for signal, pattern in REQUIRED_QUERIES.items():
        assert any(re.search(pattern, expr, flags=re.S) for expr in every), (
            f"no panel query shows the {signal} ({pattern}); queries: {queries}"
        )
