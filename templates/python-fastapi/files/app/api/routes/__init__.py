"""The routers: one module per area (`auth`, `account`[% if app.features.teams %], `teams`[% endif %], `dashboard`, `system`[% if views %], `views`[% endif %],
`extra`) and one per entity (JSON API under /api/<route>, pages under /<route>), all included by app.main."""

from __future__ import annotations

from fastapi import APIRouter

[% for e in entities %]
from app.api.routes import [[ e.ident ]] as _[[ e.ident ]]
[% endfor %]

# (API router, page router) per entity.
ROUTERS: list[tuple[APIRouter, APIRouter]] = [
[% for e in entities %]
    (_[[ e.ident ]].api, _[[ e.ident ]].pages),
[% endfor %]
]
