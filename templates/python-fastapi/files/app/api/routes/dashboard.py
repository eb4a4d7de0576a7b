"""The dashboard at `/`: how many rows of each entity the current [% if app.features.teams %]workspace[% else %]account[% endif %] has[% if views %], and the views' cards[% endif %]."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import crud[% if views %], views[% endif %]

from app.api.deps import Db, [% if app.features.teams %]PageMembership[% else %]PageAccount[% endif %]

from app.models import ENTITIES
from app.templating import render

router = APIRouter()


@router.get("/", include_in_schema=False)
[% if app.features.teams %]
def dashboard(request: Request, member: PageMembership, db: Db) -> Response:
    counts = [(meta, crud.count(db, meta.model, member.team_id)) for meta in ENTITIES]
[% if views %]
    context = {"counts": counts, "view_cards": views.cards(db, member.team_id), "account": member.account, "membership": member}
    return render(request, "dashboard.html", context)
[% else %]
    return render(request, "dashboard.html", {"counts": counts, "account": member.account, "membership": member})
[% endif %]
[% else %]
def dashboard(request: Request, account: PageAccount, db: Db) -> Response:
    counts = [(meta, crud.count(db, meta.model, account.id)) for meta in ENTITIES]
[% if views %]
    return render(request, "dashboard.html", {"counts": counts, "view_cards": views.cards(db, account.id), "account": account})
[% else %]
    return render(request, "dashboard.html", {"counts": counts, "account": account})
[% endif %]
[% endif %]
