"""Who may log in, and what each role may open: users and roles as validated YAML, bcrypt.

What belongs here: loading `users.yaml` (bcrypt-hashed passwords, streamlit-authenticator's
file shape; `$RENFANG_USERS` points at a production file) and `roles.yaml` (pages and actions
per role), checking a password, and answering "may this user open that page / do that". Pure:
no Streamlit here, so it is unit-tested directly. What does not: the login form (app), the
throttle and sessions (dashboards.signin).

The shipped `users.yaml` holds demo users whose passwords are printed in the README: it is
used only with an explicit demo flag (`RENFANG_DEMO_USERS=1`, or `renfang ui --demo`);
without `RENFANG_USERS` and without the flag the dashboards refuse to start.

An unknown user name is checked against a dummy bcrypt hash of the same cost as the real
ones, so it takes as long to refuse as a wrong password: timing does not reveal which names
exist.

Why not streamlit-authenticator's widget: with Streamlit 1.67 its cookie controller prints
"Invalid token type" on every run and its login depends on an iframe cookie component;
checking bcrypt hashes from the same file shape is ~20 lines and behaves identically in
AppTest and a real browser. A session stays logged in until logout or the tab closes.
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path
from typing import Literal

import bcrypt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.labels import Label
from models.yaml_data import load_yaml_mapping, validate_model

HERE = Path(__file__).resolve().parent
DEFAULT_USERS = HERE / "users.yaml"
"""The demo users (passwords in the README): only with `DEMO_FLAG`."""
USERS_ENV = "RENFANG_USERS"
DEMO_FLAG = "RENFANG_DEMO_USERS"
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
    """users.yaml or roles.yaml is malformed, or no users file may be used."""


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


def demo_flag() -> bool:
    return os.environ.get(DEMO_FLAG, "").strip().lower() in ("1", "true", "yes")


def users_source() -> tuple[Path, bool]:
    """(the users file, whether it is the shipped demo file). `$RENFANG_USERS`, else the demo
    users — and those only with the demo flag; otherwise `AccessConfigError`."""
    given = os.environ.get(USERS_ENV)
    path = Path(given).expanduser() if given else DEFAULT_USERS
    demo = path.resolve() == DEFAULT_USERS.resolve()
    if demo and not demo_flag():
        raise AccessConfigError(
            f"未设置 {USERS_ENV}：拒绝以内置演示用户（密码公开于 README）启动。"
            f"请将 {USERS_ENV} 指向自己的用户文件；仅供试用时可设置 {DEMO_FLAG}=1"
            "（或 `renfang ui --demo`）。\n"
            f"{USERS_ENV} is not set: refusing to start with the shipped demo users (their "
            f"passwords are in the README). Point {USERS_ENV} at your own users file, or for "
            f"a trial only set {DEMO_FLAG}=1 (or run `renfang ui --demo`)."
        )
    return path, demo


def users_path() -> Path:
    return users_source()[0]


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
    for entry in users.credentials.usernames.values():
        _dummy_hash(_cost(entry.password))  # made now, so no first refusal is slower
    return users.credentials.usernames


def _cost(bcrypt_hash: str) -> int:
    return int(bcrypt_hash[4:6])


@cache
def _dummy_hash(cost: int) -> bytes:
    """A bcrypt hash of a random password at `cost`: what an unknown name is checked against."""
    return bcrypt.hashpw(secrets.token_bytes(32), bcrypt.gensalt(cost))


def authenticate(username: str, password: str, path: Path | None = None) -> User | None:
    """The user if the password matches its bcrypt hash, else None. An unknown user name is
    checked against a dummy hash of the same cost, so it takes the same time to refuse."""
    users = load_users(path or users_path())
    entry = users.get(username.strip())
    if not password:
        return None
    if entry is None:
        cost = max((_cost(e.password) for e in users.values()), default=12)
        bcrypt.checkpw(_secret(password), _dummy_hash(cost))
        return None
    if not bcrypt.checkpw(_secret(password), entry.password.encode("utf-8")):
        return None
    return User(username=username.strip(), name=entry.name, role=entry.roles[0])


def _secret(password: str) -> bytes:
    """bcrypt reads at most 72 bytes (bcrypt 5 refuses more instead of ignoring the rest)."""
    return password.encode("utf-8")[:72]


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
    return bcrypt.hashpw(_secret(password), bcrypt.gensalt(12)).decode("ascii")


if __name__ == "__main__":  # `python -m dashboards.auth`: a hash to paste into users.yaml
    import getpass

    print(hash_password(getpass.getpass("password: ")))
