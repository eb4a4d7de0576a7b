"""The database models: the built-in ones (`accounts`: accounts, failed logins[% if app.features.teams %], teams and memberships[% endif %]) and one
module per entity of the spec (its table, field metadata and rules)."""

from __future__ import annotations

from app.fields import EntityMeta
[% if app.features.teams %]
from app.models.accounts import MEMBER, OWNER, Account, LoginFailure, Membership, Team
[% else %]
from app.models.accounts import Account, LoginFailure
[% endif %]
[% for e in entities %]
from app.models import [[ e.ident ]] as _[[ e.ident ]]
[% endfor %]

# In the order the issue lists them (navigation, dashboard).
ENTITIES: tuple[EntityMeta, ...] = (
[% for e in entities %]
    _[[ e.ident ]].META,
[% endfor %]
)

# Module name -> metadata, e.g. to resolve the target of a `ref` field.
BY_NAME: dict[str, EntityMeta] = {meta.name: meta for meta in ENTITIES}

__all__ = [
[% if app.features.teams %]
    "MEMBER",
    "OWNER",
[% endif %]
    "Account",
    "LoginFailure",
[% if app.features.teams %]
    "Membership",
    "Team",
[% endif %]
    "BY_NAME",
    "ENTITIES",
]
