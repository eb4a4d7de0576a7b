"""The JSON shapes of the accounts' API (/api/auth): sign-up, tokens, and the account's e-mail and password."""

from __future__ import annotations

from typing import Annotated

import pydantic

PASSWORD_MIN = 8
PASSWORD_MAX = 256

Password = Annotated[str, pydantic.StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
AnyPassword = Annotated[str, pydantic.StringConstraints(max_length=PASSWORD_MAX)]
Token = Annotated[str, pydantic.StringConstraints(min_length=1, max_length=1000)]


class SignupIn(pydantic.BaseModel):
    email: pydantic.EmailStr
    password: Password


class AccountOut(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(from_attributes=True)
    id: int
    email: str


class TokenOut(pydantic.BaseModel):
    access_token: str
    token_type: str = "bearer"


class TokenIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    token: Token


class EmailIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    email: pydantic.EmailStr


class ResetConfirmIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    token: Token
    password: Password


class PasswordChangeIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    current_password: AnyPassword
    new_password: Password


class EmailChangeIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    password: AnyPassword
    email: pydantic.EmailStr


class PasswordIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    password: AnyPassword


class Message(pydantic.BaseModel):
    detail: str
