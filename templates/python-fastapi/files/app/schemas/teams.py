[% if app.features.teams %]
"""The JSON shapes of the team workspaces' API (/api/teams)."""

from __future__ import annotations

import pydantic


class TeamOut(pydantic.BaseModel):
    id: int
    name: str
    role: str


class MemberOut(pydantic.BaseModel):
    account_id: int
    email: str
    role: str


class MemberIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    email: pydantic.EmailStr
[% endif %]
