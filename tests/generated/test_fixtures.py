"""The event fixtures are what they claim to be, and the binary parses the form ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import COMMENT_EVENT, EVENTS, FREETEXT_EVENT, generate

ALL_KINDS = {"text", "longtext", "int", "decimal", "bool", "date", "datetime", "email", "url", "enum", "ref"}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _without_issue_text(event: dict) -> dict:
    """The event minus what a fixture may change (issue body/number/title and what names them)."""
    event = json.loads(json.dumps(event))
    issue = event["issue"]
    for key in ("body", "number", "title", "id", "url", "html_url", "timeline_url", "reactions"):
        issue.pop(key, None)
    return event


@pytest.mark.parametrize("name", ["wide", "i18n", "reserved"])
def test_form_fixture_derives_from_the_sample(name: str) -> None:
    """Only the issue's body/number/title (and the URLs holding the number) differ from the sample."""
    sample, fixture = _load(EVENTS["sample"]), _load(EVENTS[name])
    assert _without_issue_text(fixture) == _without_issue_text(sample)
    assert fixture["issue"]["number"] != sample["issue"]["number"]
    assert str(fixture["issue"]["number"]) in fixture["issue"]["html_url"]


@pytest.mark.parametrize("name", ["wide", "i18n", "reserved"])
def test_form_fixture_generates(name: str, tmp_path: Path) -> None:
    """`e2e-action generate --event F --out DIR` succeeds and writes a whole app."""
    out = tmp_path / "app"
    proc = generate(EVENTS[name], out)
    assert proc.returncode == 0, proc.stderr
    for rel in ("app/main.py", "tests/conftest.py", "requirements.txt", "Dockerfile", "deploy/deploy.yml",
                "monitoring/alerts.yml", "monitoring/grafana-dashboard.json", "spec.yaml"):
        assert (out / rel).is_file(), rel


def _spec_entities(spec_text: str) -> list[str]:
    return re.findall(r"^- label: (.*)$", spec_text, flags=re.M)


def test_wide_fixture_covers_every_type_and_modifier(tmp_path: Path) -> None:
    """The wide model: 8+ entities, every field kind, required and unique, a self-reference, a cycle."""
    body = _load(EVENTS["wide"])["issue"]["body"]
    assert "- [X] CSV export of every list" in body
    proc = generate(EVENTS["wide"], tmp_path / "app")
    assert proc.returncode == 0, proc.stderr
    spec = (tmp_path / "app/spec.yaml").read_text(encoding="utf-8")
    assert len(_spec_entities(spec)) >= 8
    assert set(re.findall(r"^\s+kind: (\w+)$", spec, flags=re.M)) == ALL_KINDS
    assert re.search(r"required: true", spec) and re.search(r"unique: true", spec)
    assert "csv_export: true" in spec
    lines = [ln for ln in body.split("```")[1].splitlines() if ":" in ln]
    refs = {ln.split(":")[0].strip(): set(re.findall(r"\(ref (\w+)", ln)) for ln in lines}
    assert any(entity in targets for entity, targets in refs.items()), "no self-reference"
    assert any(b in refs.get(a, set()) and a in refs.get(b, set()) for a in refs for b in refs if a != b), "no cycle"


def test_i18n_fixture_keeps_non_ascii_labels(tmp_path: Path) -> None:
    proc = generate(EVENTS["i18n"], tmp_path / "app")
    assert proc.returncode == 0, proc.stderr
    spec = (tmp_path / "app/spec.yaml").read_text(encoding="utf-8")
    assert "Библиотека" in spec
    labels = _spec_entities(spec)
    assert "Автор" in labels and "书评" in labels, labels
    # Identifiers are ASCII (Python/SQL names), whatever the labels.
    for ident in re.findall(r"^\s*(?:ident|route|table|name): (.*)$", spec, flags=re.M):
        if ident != "Библиотека":
            assert ident.isascii(), ident


def test_reserved_fixture_renames_reserved_words(tmp_path: Path) -> None:
    body = _load(EVENTS["reserved"])["issue"]["body"]
    assert "{{ 7*7 }}" in body and "</script>" in body
    proc = generate(EVENTS["reserved"], tmp_path / "app")
    assert proc.returncode == 0, proc.stderr
    spec = (tmp_path / "app/spec.yaml").read_text(encoding="utf-8")
    assert {"User", "Order", "Session"} <= set(_spec_entities(spec))
    field_idents = set(re.findall(r"^\s+ident: (\w+)$", spec, flags=re.M))
    for word in ("class", "from", "id", "select", "import", "return", "def"):
        assert word not in field_idents, f"reserved word {word!r} used as an identifier"


def test_freetext_fixture_has_no_form_headings_and_fails_cleanly(tmp_path: Path) -> None:
    """Without an LLM, free text cannot be built: a one-line error, exit code not 0, no panic."""
    body = _load(FREETEXT_EVENT)["issue"]["body"]
    assert "###" not in body
    proc = generate(FREETEXT_EVENT, tmp_path / "app")
    assert proc.returncode not in (0, 101), (proc.returncode, proc.stdout, proc.stderr)
    output = proc.stdout + proc.stderr
    assert "panicked" not in output
    assert "error" in output.lower(), "no error message"


def test_comment_fixture_is_an_issue_comment_created_event() -> None:
    sample, event = _load(EVENTS["sample"]), _load(COMMENT_EVENT)
    assert event["action"] == "created"
    assert event["comment"]["body"] == "/e2e build"
    assert event["comment"]["issue_url"] == event["issue"]["url"]
    assert "pull_request" not in event["issue"]
    assert event["issue"]["body"] == sample["issue"]["body"]
    assert event["repository"] == sample["repository"] and event["sender"] == sample["sender"]
