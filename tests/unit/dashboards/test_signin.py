"""Server-side sign-in state (`dashboards.signin`): failures counted per name and per address
across sessions and processes, a growing delay and a lockout; session tokens that are
signed, expiring, bound to the client and revocable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dashboards.signin import (
    Policy,
    Sessions,
    Throttle,
    client_address,
    session_secret,
    state_dir,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_failures_lock_a_name_across_sessions_with_a_growing_delay(tmp_path: Path, clock):
    delays = [Throttle(tmp_path, clock=clock).failed("centre", "10.0.0.1") for _ in range(5)]
    assert delays == [0.25, 0.5, 0.75, 1.0, 1.25]  # every call a new object: a new session
    other_session = Throttle(tmp_path, clock=clock)
    assert other_session.locked_for("centre", "10.0.0.2") == pytest.approx(60)  # any address
    assert other_session.locked_for(" CENTRE ", "10.0.0.2") > 0  # the same name, spelled so
    assert other_session.locked_for("manager", "10.0.0.2") == 0
    clock.now += 61
    assert other_session.locked_for("centre", "10.0.0.2") == 0
    other_session.failed("centre", "10.0.0.2")  # the 6th failure: locked twice as long
    assert other_session.locked_for("centre", "10.0.0.3") == pytest.approx(120)


def test_unknown_names_are_counted_like_known_ones(tmp_path: Path, clock):
    throttle = Throttle(tmp_path, clock=clock)
    known = [throttle.failed("centre", "a") for _ in range(5)]
    unknown = [throttle.failed("no-such-user", "b") for _ in range(5)]
    assert known == unknown
    assert throttle.locked_for("centre", "c") == throttle.locked_for("no-such-user", "c") > 0


def test_an_address_guessing_many_names_is_locked(tmp_path: Path, clock):
    throttle = Throttle(tmp_path, Policy(client_limit=20), clock=clock)
    for i in range(20):
        throttle.failed(f"user{i}", "10.9.9.9")
    assert throttle.locked_for("someone-else", "10.9.9.9") > 0
    assert throttle.locked_for("someone-else", "10.9.9.8") == 0


def test_a_right_password_clears_the_names_count_and_old_failures_are_forgotten(
    tmp_path: Path, clock
):
    throttle = Throttle(tmp_path, clock=clock)
    for _ in range(4):
        throttle.failed("centre", "a")
    throttle.succeeded("centre")
    assert throttle.failed("centre", "a") == 0.25  # counting starts again
    clock.now += 3601
    assert throttle.failed("centre", "a") == 0.25


def test_a_token_survives_a_new_signer_and_is_refused_when_changed_expired_moved_or_revoked(
    tmp_path: Path, clock
):
    secret = session_secret(tmp_path)
    token = Sessions(tmp_path, secret, 8, clock=clock).issue("centre", "10.0.0.1")
    sessions = Sessions(tmp_path, session_secret(tmp_path), 8, clock=clock)  # after a restart
    assert sessions.verify(token, "10.0.0.1") == "centre"
    payload, signature = token.split(".")
    assert sessions.verify(payload[:-2] + "xx." + signature, "10.0.0.1") is None
    assert sessions.verify(token + "x", "10.0.0.1") is None
    assert (
        Sessions(tmp_path, b"another secret" * 3, 8, clock=clock).verify(token, "10.0.0.1") is None
    )
    assert sessions.verify(token, "10.0.0.2") is None  # copied to another machine
    clock.now += 8 * 3600 - 1
    assert sessions.verify(token, "10.0.0.1") == "centre"
    clock.now += 2
    assert sessions.verify(token, "10.0.0.1") is None  # 8 h are over
    fresh = sessions.issue("centre", "10.0.0.1")
    sessions.revoke(fresh)  # sign-out
    assert sessions.verify(fresh, "10.0.0.1") is None
    assert Sessions(tmp_path, secret, 8, clock=clock).verify(fresh, "10.0.0.1") is None
    for junk in ("", ".", "a.b", "x" * 5000):
        assert sessions.verify(junk, "10.0.0.1") is None
        sessions.revoke(junk)


def test_the_secret_is_generated_once_private_or_taken_from_the_environment(
    tmp_path: Path, monkeypatch
):
    monkeypatch.delenv("RENFANG_SESSION_SECRET", raising=False)
    first = session_secret(tmp_path)
    assert session_secret(tmp_path) == first and len(first) == 32
    assert stat.S_IMODE((tmp_path / "session_secret").stat().st_mode) == 0o600
    monkeypatch.setenv("RENFANG_SESSION_SECRET", "s" * 40)
    assert session_secret(tmp_path) == b"s" * 40
    monkeypatch.setenv("RENFANG_SESSION_SECRET", "short")
    with pytest.raises(ValueError, match="at least 32"):
        session_secret(tmp_path)


def test_the_state_folder_and_the_client_address(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("RENFANG_STATE_DIR", raising=False)
    folder = state_dir(tmp_path / "warehouse.duckdb")
    assert folder == (tmp_path / "dashboard_state").resolve()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    monkeypatch.setenv("RENFANG_STATE_DIR", str(tmp_path / "state"))
    assert state_dir(tmp_path / "warehouse.duckdb") == (tmp_path / "state").resolve()
    monkeypatch.delenv("RENFANG_TRUST_PROXY", raising=False)
    assert client_address("10.0.0.1", "1.2.3.4") == "10.0.0.1"  # a client's claim is ignored
    assert client_address(None, None) == "unknown"
    monkeypatch.setenv("RENFANG_TRUST_PROXY", "1")
    assert client_address("127.0.0.1", "6.6.6.6, 10.1.2.3") == "10.1.2.3"  # the proxy's entry
