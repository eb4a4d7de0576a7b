"""Endpoints and pages beyond CRUD that the issue asks for.

[% if app.features.teams %]
Use the same conventions as the generated routers (app/api/routes/<entity>.py), with the
dependencies of app.api.deps: JSON under /api/… with
`member: ApiMembership` (bearer token + `X-Workspace` header), pages with
`member: PageMembership` (session) and `form: CsrfForm` on POSTs, and always filter
queries on `member.team_id` (the current workspace; `member.account` is the user).
[% else %]
Use the same conventions as the generated routers (app/api/routes/<entity>.py), with the
dependencies of app.api.deps: JSON under /api/… with
`account: ApiAccount` (bearer token), pages with `account: PageAccount` (session) and
`form: CsrfForm` on POSTs, and always filter queries on `account.id`.
[% endif %]
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()

[# hole: extra_routes #]
# No extra routes: the spec is fully covered by the generated CRUD routers.
[# endhole #]
