"""Sign-in that resists guessing, and sessions that survive a reload: server-side state.

What belongs here (pure: no Streamlit, unit-tested directly):
- `Throttle`: failed sign-ins counted per user name and per client address, across browser
  sessions and server processes, in a small SQLite file of the state folder (never the
  DuckDB warehouse, which has one writer). Each failure is answered after a growing delay;
  enough failures lock the name (or the address) for a time that doubles with each further
  failure. Unknown names are counted like known ones, so the answers never tell them apart.
- `Sessions`: signed, expiring session tokens (HMAC-SHA256 over user, session id, expiry and
  client) that the browser keeps in a cookie, so a reload keeps the user signed in; signing
  out revokes the token server-side, and every page run checks it again.
- where that state lives (`state_dir`) and the secret (`$RENFANG_SESSION_SECRET`, else one
  generated on first start into the state folder, readable by its owner only).
What does not: the form and the cookie itself (dashboards.streamlit_app), passwords and roles
(dashboards.auth).

Settings (environment): `RENFANG_STATE_DIR` (default: `dashboard_state/` beside the
warehouse file), `RENFANG_SESSION_SECRET` (≥ 32 characters), `RENFANG_SESSION_HOURS`
(default 8), `RENFANG_TRUST_PROXY=1` (take the client address from the last
`X-Forwarded-For` entry, which the reverse proxy in front writes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STATE_DIR_ENV = "RENFANG_STATE_DIR"
SECRET_ENV = "RENFANG_SESSION_SECRET"
HOURS_ENV = "RENFANG_SESSION_HOURS"
TRUST_PROXY_ENV = "RENFANG_TRUST_PROXY"
STATE_FILE = "signin.sqlite3"
SECRET_FILE = "session_secret"
DEFAULT_HOURS = 8.0


def state_dir(warehouse_file: Path) -> Path:
    """`$RENFANG_STATE_DIR`, else `dashboard_state/` beside the warehouse; created private."""
    explicit = os.environ.get(STATE_DIR_ENV)
    folder = Path(explicit).expanduser() if explicit else warehouse_file.parent / "dashboard_state"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder.resolve()


def client_address(remote_ip: object, forwarded_for: str | None) -> str:
    """The address failures are counted for: the connection's peer, or — behind a trusted
    reverse proxy (`RENFANG_TRUST_PROXY=1`) — the last `X-Forwarded-For` entry, the one that
    proxy appended (earlier entries are whatever the client claimed)."""
    if os.environ.get(TRUST_PROXY_ENV, "") in ("1", "true", "yes") and forwarded_for:
        return forwarded_for.split(",")[-1].strip()[:64] or "unknown"
    return remote_ip[:64] if isinstance(remote_ip, str) and remote_ip else "unknown"


@contextmanager
def _database(folder: Path) -> Iterator[sqlite3.Connection]:
    """One short connection; `BEGIN IMMEDIATE` so concurrent sign-ins queue, never race."""
    con = sqlite3.connect(folder / STATE_FILE, timeout=10, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(
            "CREATE TABLE IF NOT EXISTS failures (kind TEXT, key TEXT, failures INTEGER, "
            "last_at REAL, locked_until REAL, PRIMARY KEY (kind, key))"
        )
        con.execute("CREATE TABLE IF NOT EXISTS revoked (sid TEXT PRIMARY KEY, expires REAL)")
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


@dataclass(frozen=True)
class Policy:
    """How hard guessing is made (defaults documented in the README's deployment section)."""

    user_limit: int = 5
    """Failures for one user name before it is locked."""
    client_limit: int = 20
    """Failures from one client address (any names) before the address is locked."""
    lock_seconds: float = 60.0
    """The first lock; each further failure after the limit doubles it."""
    max_lock_seconds: float = 3600.0
    delay_step: float = 0.25
    """The n-th failure in a row is answered after n × this (capped): slow for a script,
    unnoticeable for a person who mistyped."""
    max_delay: float = 3.0
    forget_after: float = 3600.0
    """A name's (an address's) count starts again this long after its last failure."""


def user_key(username: str) -> str:
    return username.strip().casefold()[:128]


class Throttle:
    """Failed sign-ins per user name and per client address, stored in the state folder."""

    def __init__(
        self, folder: Path, policy: Policy | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.folder = folder
        self.policy = policy or Policy()
        self.clock = clock

    def locked_for(self, username: str, client: str) -> float:
        """Seconds until this name and this address may try again (0: they may now)."""
        now = self.clock()
        with _database(self.folder) as con:
            rows = con.execute(
                "SELECT max(locked_until) FROM failures WHERE (kind = 'user' AND key = ?) "
                "OR (kind = 'client' AND key = ?)",
                [user_key(username), client],
            ).fetchone()
        until = rows[0] if rows and rows[0] is not None else 0.0
        return max(0.0, until - now)

    def failed(self, username: str, client: str) -> float:
        """Record a failure; returns how long to wait before answering it."""
        now, p = self.clock(), self.policy
        counts = {}
        with _database(self.folder) as con:
            for kind, key, limit in (
                ("user", user_key(username), p.user_limit),
                ("client", client, p.client_limit),
            ):
                row = con.execute(
                    "SELECT failures, last_at FROM failures WHERE kind = ? AND key = ?", [kind, key]
                ).fetchone()
                failures = row[0] if row and now - row[1] < p.forget_after else 0
                failures += 1
                over = failures - limit
                locked = now + min(p.lock_seconds * 2**over, p.max_lock_seconds) if over >= 0 else 0
                con.execute(
                    "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?)",
                    [kind, key, failures, now, locked],
                )
                counts[kind] = failures
            con.execute(  # forget what no longer counts (unknown names must not pile up)
                "DELETE FROM failures WHERE last_at < ? AND locked_until < ?",
                [now - p.forget_after, now],
            )
        return min(p.delay_step * counts["user"], p.max_delay)

    def succeeded(self, username: str) -> None:
        """A right password (while not locked) clears the name's count; the address keeps its
        own (one valid account must not wash away an address's guesses at others)."""
        with _database(self.folder) as con:
            con.execute(
                "DELETE FROM failures WHERE kind = 'user' AND key = ?", [user_key(username)]
            )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def session_secret(folder: Path) -> bytes:
    """`$RENFANG_SESSION_SECRET`, else the state folder's secret, generated on first start
    (owner-only file). Changing it signs everybody out."""
    given = os.environ.get(SECRET_ENV, "")
    if given:
        if len(given) < 32:
            raise ValueError(
                f"{SECRET_ENV} 至少需要 32 个字符\n{SECRET_ENV} must be at least 32 characters"
            )
        return given.encode("utf-8")
    path = folder / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process is writing it right now
            text = path.read_text(encoding="ascii").strip()
            if text:
                return bytes.fromhex(text)
            time.sleep(0.02)
        raise
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def session_hours() -> float:
    raw = os.environ.get(HOURS_ENV, "").strip()
    hours = float(raw) if raw else DEFAULT_HOURS
    if not 0 < hours <= 24 * 30 or math.isnan(hours):
        raise ValueError(f"{HOURS_ENV}={raw!r}: 0 < hours ≤ 720")
    return hours


class Sessions:
    """Signed, expiring, revocable session tokens: `<payload>.<HMAC-SHA256>`, base64url."""

    def __init__(
        self, folder: Path, secret: bytes, hours: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.folder = folder
        self.secret = secret
        self.seconds = hours * 3600
        self.clock = clock

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.secret, payload.encode("ascii"), hashlib.sha256).digest())

    @staticmethod
    def _client(client: str) -> str:
        return hashlib.sha256(client.encode("utf-8")).hexdigest()[:16]

    def issue(self, username: str, client: str) -> str:
        body = {
            "u": username,
            "s": secrets.token_urlsafe(16),
            "e": int(self.clock() + self.seconds),
            "c": self._client(client),
        }
        payload = _b64(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def _claims(self, token: str) -> dict[str, object] | None:
        payload, dot, signature = token.partition(".")
        if not dot or len(token) > 2048:
            return None
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            claims = json.loads(_unb64(payload))
        except ValueError:
            return None
        return claims if isinstance(claims, dict) else None

    def verify(self, token: str, client: str) -> str | None:
        """The user name of a valid token (right signature, not expired, same client, not
        revoked); else None."""
        claims = self._claims(token)
        if claims is None:
            return None
        expires, username, sid = claims.get("e"), claims.get("u"), claims.get("s")
        if not (isinstance(expires, int) and isinstance(username, str) and isinstance(sid, str)):
            return None
        if expires <= self.clock() or claims.get("c") != self._client(client):
            return None
        with _database(self.folder) as con:
            revoked = con.execute("SELECT 1 FROM revoked WHERE sid = ?", [sid]).fetchone()
        return None if revoked else username

    def revoke(self, token: str) -> None:
        """Sign-out: the token is refused from now on, wherever it was copied to."""
        claims = self._claims(token)
        if claims is None or not isinstance(claims.get("s"), str):
            return
        now = self.clock()
        with _database(self.folder) as con:
            con.execute("DELETE FROM revoked WHERE expires < ?", [now])
            con.execute(
                "INSERT OR REPLACE INTO revoked VALUES (?, ?)", [claims["s"], claims.get("e", now)]
            )
