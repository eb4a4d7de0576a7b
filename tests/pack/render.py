#!/usr/bin/env python3
"""Render the python-fastapi stack pack with Python jinja2, configured like the Rust renderer.

Usage: render.py SPEC.yaml OUT_DIR [--pack templates/python-fastapi]

This is development tooling for the pack: it mirrors the contract of the Rust scaffold
(minijinja with custom delimiters, strict undefined, `__entity__` path segments, empty
files not written) closely enough to iterate on the templates before the Rust side exists.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import jinja2
import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_PACK = HERE.parent.parent / "templates" / "python-fastapi"
KINDS = {"text", "longtext", "int", "decimal", "bool", "date", "datetime", "email", "url", "enum", "ref"}
SPEC_KEYS = {"format", "issue", "app", "entities", "requirements"}
ENTITY_KEYS = {"label", "plural_label", "name", "ident", "plural", "route", "table", "fields", "display_field"}
FIELD_KEYS = {"label", "ident", "kind", "required", "unique", "choices", "target"}


def py_literal(value):
    """The `py` filter: a value as a safe Python literal."""
    if value is None:
        return "None"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(str(k))}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"py filter: unsupported value {value!r}")


def load_spec(path: Path) -> dict:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    # Mirror serde's deny_unknown_fields and defaults so fixtures stay valid for the Rust side.
    assert set(spec) <= SPEC_KEYS, set(spec) - SPEC_KEYS
    spec.setdefault("requirements", {})
    spec["requirements"].setdefault("functional", [])
    spec["requirements"].setdefault("non_functional", [])
    app = spec["app"]
    app.setdefault("summary", "")
    app.setdefault("requested_features", [])
    feats = app.setdefault("features", {})
    feats.setdefault("csv_export", False)
    feats.setdefault("teams", False)
    spec["issue"].setdefault("url", "")
    by_name = {e["name"]: e for e in spec["entities"]}
    for ent in spec["entities"]:
        assert set(ent) <= ENTITY_KEYS, set(ent) - ENTITY_KEYS
        ent.setdefault("display_field", None)
        for f in ent["fields"]:
            assert set(f) <= FIELD_KEYS, set(f) - FIELD_KEYS
            assert f["kind"] in KINDS, f["kind"]
            f.setdefault("required", False)
            f.setdefault("unique", False)
            f.setdefault("choices", [])
            f.setdefault("target", None)
    # The renderer adds `ref` (the target Entity object) to every field; done after the
    # defaults so the objects are complete (cycles are fine: they are shared references).
    for ent in spec["entities"]:
        for f in ent["fields"]:
            f["ref"] = by_name[f["target"]] if f["kind"] == "ref" else None
    return spec


def make_env(pack: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(pack / "files")),
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["py"] = py_literal
    env.filters["tojson"] = lambda v, indent=None: json.dumps(v, ensure_ascii=False, indent=indent)
    return env


def render(spec_path: Path, out: Path, pack: Path = DEFAULT_PACK) -> list[Path]:
    spec = load_spec(spec_path)
    env = make_env(pack)
    ctx = {
        "app": spec["app"],
        "issue": spec["issue"],
        "requirements": spec["requirements"],
        "entities": spec["entities"],
        "generator": {"name": "e2e-action", "version": "0.0.0-dev"},
    }
    if out.exists():
        shutil.rmtree(out)
    written = []
    files_root = pack / "files"
    for src in sorted(p for p in files_root.rglob("*") if p.is_file()):
        rel = src.relative_to(files_root).as_posix()
        if "__pycache__" in rel:
            continue
        template = env.get_template(rel)
        targets = []
        if "__entity__" in rel:
            for ent in spec["entities"]:
                targets.append((rel.replace("__entity__", ent["ident"]), dict(ctx, entity=ent)))
        else:
            targets.append((rel, ctx))
        for target_rel, tctx in targets:
            try:
                text = template.render(**tctx)
            except Exception as exc:  # noqa: BLE001 - report which file failed
                raise SystemExit(f"render error in {rel} -> {target_rel}: {exc!r}") from exc
            if not text.strip():
                continue
            dest = out / target_rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
            written.append(dest)
    return written


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--pack", type=Path, default=DEFAULT_PACK)
    args = ap.parse_args()
    files = render(args.spec, args.out, args.pack)
    print(f"{len(files)} files written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
