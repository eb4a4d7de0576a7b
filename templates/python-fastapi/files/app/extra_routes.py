"""Endpoints and pages beyond CRUD that the issue asks for.

Use the same conventions as the generated routers: JSON under /api/… with
`account: ApiAccount` (bearer token), pages with `account: PageAccount` (session) and
`form: CsrfForm` on POSTs, and always filter queries on `account.id`.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()

[# hole: extra_routes #]
# No extra routes: the spec is fully covered by the generated CRUD routers.
[# endhole #]
