"""The UI's language: texts come from a gettext catalog (`app/locales/<language>.po`, read with Babel).

English is the source language (the catalog's msgids); adding a language is adding one
`<language>.po` file. The language is `APP_LANGUAGE` when set, else derived from the issue's
own texts (app name, summary, labels): Korean when they are written in Hangul, else English.
Placeholders use `{name}`: `_("New {label}", label=...)`.
"""

from __future__ import annotations

import os
from pathlib import Path

from app import meta
from app.models import ENTITIES
from app.msg import N_  # noqa: F401 (re-exported: the marker for messages kept as data)

LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LANGUAGE = "en"


def available() -> list[str]:
    return sorted({SOURCE_LANGUAGE, *(p.stem for p in LOCALES_DIR.glob("*.po"))})


def _has_hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f" for ch in text)


def detect_language() -> str:
    """The language of the issue's texts (the spec has no language field)."""
    texts = [meta.APP_NAME, meta.APP_SUMMARY]
    for entity in ENTITIES:
        texts += [entity.label, entity.plural_label, *(f.label for f in entity.fields)]
    return "ko" if any(_has_hangul(t) for t in texts) else SOURCE_LANGUAGE


def _choose() -> str:
    wanted = os.environ.get("APP_LANGUAGE", "").strip().lower()
    if wanted:
        if wanted not in available():
            raise RuntimeError(f"APP_LANGUAGE={wanted!r}: no catalog app/locales/{wanted}.po (available: {', '.join(available())})")
        return wanted
    return detect_language()


def load_catalog(language: str) -> dict[str, str]:
    if language == SOURCE_LANGUAGE:
        return {}
    from babel.messages.pofile import read_po  # only for a translated UI: English apps start faster

    with open(LOCALES_DIR / f"{language}.po", "rb") as po:
        catalog = read_po(po, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


LANGUAGE = _choose()
_CATALOG = load_catalog(LANGUAGE)


def _(message: str, **params: object) -> str:
    """The message in the app's language (the English text when the catalog lacks it)."""
    text = _CATALOG.get(message, message)
    return text.format(**params) if params else text

