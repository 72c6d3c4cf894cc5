"""Who may log in, and what each role may open: users and roles as validated YAML, bcrypt.

What belongs here: loading `users.yaml` (bcrypt-hashed passwords, streamlit-authenticator's
file shape; `$RENFANG_USERS` points at a production file) and `roles.yaml` (pages and actions
per role), checking a password, and answering "may this user open that page / do that". Pure:
no Streamlit here, so it is unit-tested directly. What does not: the login form (app).

Why not streamlit-authenticator's widget: with Streamlit 1.67 its cookie controller prints
"Invalid token type" on every run and its login depends on an iframe cookie component;
checking bcrypt hashes from the same file shape is ~20 lines and behaves identically in
AppTest and a real browser. A session stays logged in until logout or the tab closes.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Literal

import bcrypt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.labels import Label
from models.yaml_data import load_yaml_mapping, validate_model

HERE = Path(__file__).resolve().parent
DEFAULT_USERS = HERE / "users.yaml"
ROLES_FILE = HERE / "roles.yaml"

PAGES = (
    "overview",
    "firm_profile",
    "rounds",
    "data_quality",
    "validation",
    "tier_list",
    "round_results",
    "cases",
    "public_lists",
)
"""Every page of the app, in menu order (one module per page in `dashboards/views/`)."""

Action = Literal["download", "refresh", "scores"]


class AccessConfigError(ValueError):
    """users.yaml or roles.yaml is malformed."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Role(_Frozen):
    label: Label
    pages: tuple[str, ...] = Field(min_length=1)
    actions: tuple[Action, ...] = ()

    @model_validator(mode="after")
    def _known_pages(self) -> Role:
        unknown = sorted(set(self.pages) - set(PAGES))
        if unknown:
            raise ValueError(f"pages: unknown page(s) {unknown}; known: {list(PAGES)}")
        return self


class Roles(_Frozen):
    roles: dict[str, Role] = Field(min_length=1)


class UserEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")  # e.g. email, failed_login_attempts
    name: str
    password: str = Field(pattern=r"^\$2[aby]\$\d\d\$.{53}$", description="a bcrypt hash")
    roles: tuple[str, ...] = Field(min_length=1, max_length=1)


class Usernames(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    usernames: dict[str, UserEntry] = Field(min_length=1)


class UsersFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")  # cookie settings, if present
    credentials: Usernames


class User(_Frozen):
    """A logged-in user."""

    username: str
    name: str
    role: str


@cache
def load_roles(path: Path = ROLES_FILE) -> Roles:
    text = path.read_text(encoding="utf-8")
    data = load_yaml_mapping(text, AccessConfigError, f"roles file {path}", "roles: …")
    return validate_model(Roles, data, AccessConfigError, f"roles file {path}")


def users_path() -> Path:
    return Path(os.environ.get("RENFANG_USERS") or DEFAULT_USERS)


@cache
def load_users(path: Path) -> dict[str, UserEntry]:
    text = path.read_text(encoding="utf-8")
    data = load_yaml_mapping(text, AccessConfigError, f"users file {path}", "credentials: …")
    users = validate_model(UsersFile, data, AccessConfigError, f"users file {path}")
    roles = load_roles()
    for username, entry in users.credentials.usernames.items():
        if entry.roles[0] not in roles.roles:
            raise AccessConfigError(
                f"invalid users file {path}: credentials.usernames.{username}.roles: "
                f"unknown role {entry.roles[0]!r}; known: {sorted(roles.roles)}"
            )
    return users.credentials.usernames


def authenticate(username: str, password: str, path: Path | None = None) -> User | None:
    """The user if the password matches its bcrypt hash, else None (unknown users too)."""
    entry = load_users(path or users_path()).get(username.strip())
    if entry is None or not password:
        return None
    if not bcrypt.checkpw(password.encode("utf-8"), entry.password.encode("utf-8")):
        return None
    return User(username=username.strip(), name=entry.name, role=entry.roles[0])


def allowed_pages(user: User) -> tuple[str, ...]:
    """The user's pages in menu order."""
    pages = set(load_roles().roles[user.role].pages)
    return tuple(p for p in PAGES if p in pages)


def may_open(user: User, page: str) -> bool:
    return page in load_roles().roles[user.role].pages


def may(user: User, action: Action) -> bool:
    return action in load_roles().roles[user.role].actions


def hash_password(password: str) -> str:
    """A bcrypt hash for users.yaml (cost 12)."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(12)).decode("ascii")


if __name__ == "__main__":  # `python -m dashboards.auth`: a hash to paste into users.yaml
    import getpass

    print(hash_password(getpass.getpass("password: ")))
