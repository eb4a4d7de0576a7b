"""The UI's language: texts come from a gettext catalog (`app/locales/<language>.po`, read with Babel).

English is the source language (the catalog's msgids); adding a language is adding one
`<language>.po` file. The language is `APP_LANGUAGE` when set, else derived from the issue's
own texts (app name, summary, labels): Korean when they are written in Hangul, else English.
Placeholders use `{name}`: `_("New {label}", label=...)`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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



# --- error messages: pydantic's, the API's `detail` texts --------------------------------

# pydantic's messages are English: by error type, the same in words the catalog translates
# (`{name}` fields come from the error's `ctx`). English apps keep pydantic's own wording.
ERROR_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
    "string_too_long": N_("Too long: at most {max_length} characters."),
    "string_type": N_("Enter a text."),
    "string_pattern_mismatch": N_("This value has characters that are not allowed."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "decimal_parsing": N_("Enter a number."),
    "decimal_type": N_("Enter a number."),
    "decimal_max_digits": N_("Too many digits: at most {max_digits}."),
    "decimal_max_places": N_("Too many decimal places: at most {decimal_places}."),
    "decimal_whole_digits": N_("Too many digits before the decimal point."),
    "bool_parsing": N_("Choose yes or no."),
    "bool_type": N_("Choose yes or no."),
    "date_parsing": N_("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Enter a date (YYYY-MM-DD)."),
    "date_type": N_("Enter a date (YYYY-MM-DD)."),
    "datetime_parsing": N_("Enter a date and time."),
    "datetime_from_date_parsing": N_("Enter a date and time."),
    "datetime_type": N_("Enter a date and time."),
    "literal_error": N_("Choose one of the options."),
    "enum": N_("Choose one of the options."),
    "greater_than_equal": N_("Must be at least {ge}."),
    "greater_than": N_("Must be more than {gt}."),
    "less_than_equal": N_("Must be at most {le}."),
    "less_than": N_("Must be less than {lt}."),
    "extra_forbidden": N_("This field is not part of the form."),
    "json_invalid": N_("The request body is not valid JSON."),
    "model_attributes_type": N_("Send an object with the fields."),
    "dict_type": N_("Send an object with the fields."),
    "list_type": N_("Send a list."),
}
INVALID_EMAIL = N_("Enter a valid e-mail address.")
# `detail` texts of the API and the app's own validators, translated where they are answered
# (app.main's handlers). tests/test_i18n.py checks every `detail=` and `ValueError(` text
# literal of the app against the catalogs.
NOT_FOUND = N_("{label} not found")


def error_message(err: dict[str, Any]) -> str:
    """One pydantic (or FieldErrors) error's message in the app's language."""
    message = str(err.get("msg", "")).removeprefix("Value error, ")
    if LANGUAGE == SOURCE_LANGUAGE:
        return message
    kind = str(err.get("type", ""))
    if kind in ERROR_MESSAGES:
        return _(ERROR_MESSAGES[kind], **{k: str(v) for k, v in (err.get("ctx") or {}).items()})
    if message.startswith("value is not a valid email address"):
        return _(INVALID_EMAIL)
    return _(message)


def translate_errors(errors: Sequence[Any]) -> list[Any]:
    """A 422's `detail` list with every `msg` in the app's language (unchanged in English)."""
    if LANGUAGE == SOURCE_LANGUAGE:
        return list(errors)
    return [{**err, "msg": error_message(err)} if isinstance(err, dict) else err for err in errors]


# The routers say `<Class> not found`; the entity modules are the class names in snake case.
_ENTITY_LABELS = {entity.name.replace("_", "").lower(): entity.label for entity in ENTITIES}


def translate_detail(detail: Any) -> Any:
    """An HTTPException's `detail` in the app's language: a catalog text, `<Entity> not found`,
    or a list of errors."""
    if LANGUAGE == SOURCE_LANGUAGE:
        return detail
    if isinstance(detail, str):
        name = detail.removesuffix(" not found").lower()
        if detail.endswith(" not found") and name in _ENTITY_LABELS:
            return _(NOT_FOUND, label=_ENTITY_LABELS[name])
        return _(detail)
    if isinstance(detail, list):
        return translate_errors(detail)
    return detail
