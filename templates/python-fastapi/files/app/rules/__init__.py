"""Business rules: one module per entity with a `validate(data, account)` hook."""

from __future__ import annotations


class RuleViolation(ValueError):
    """Raise from a rules module to reject a value; `field` is the field's name (None: the whole record)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
