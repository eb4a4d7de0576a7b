"""Extra business rules for [[ entity.name ]] records, applied on every create and update (API and pages).

The issue's own rules (`RULES` in app/models/[[ entity.ident ]].py) are enforced by app.rules
whatever this hook does; `validate()` is for anything beyond them.
"""

from __future__ import annotations

from typing import Any

from app.models import Account
from app.rules import RuleViolation

__all__ = ["RuleViolation", "validate"]

[# hole: rules #]

def validate(data: dict[str, Any], account: Account) -> dict[str, Any]:
    """Check or derive field values before they are stored.

    `data` holds every field of the record after type validation (on update: the stored
    values merged with the changes). Return the data to store, or raise
    `RuleViolation(field_name, message)`, which the API answers with 422 and the pages show
    next to the field.
    """
    return data
[# endhole #]
