"""One router module per entity: JSON API under /api/<route>, pages under /<route>."""

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
