"""Log-in and role rules: bcrypt hashes from the users file, pages and actions per role; the
demo users only with the demo flag; unknown names refused as slowly as wrong passwords."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from dashboards.auth import (
    DEFAULT_USERS,
    PAGES,
    AccessConfigError,
    User,
    allowed_pages,
    authenticate,
    hash_password,
    load_users,
    may,
    may_open,
    users_source,
)


@pytest.fixture(autouse=True)
def demo_users(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests use the shipped demo users: allowed by the demo flag only."""
    monkeypatch.setenv("RENFANG_DEMO_USERS", "1")
    monkeypatch.delenv("RENFANG_USERS", raising=False)


DEFAULT_PASSWORDS = {
    "centre": "renfang-centre",
    "manager": "renfang-manager",
    "association": "renfang-association",
    "public": "renfang-public",
}


@pytest.mark.parametrize("username", sorted(DEFAULT_PASSWORDS))
def test_the_documented_default_users_log_in_with_their_role(username: str):
    user = authenticate(username, DEFAULT_PASSWORDS[username])
    assert user is not None and user.role == username


@pytest.mark.parametrize(
    ("username", "password"),
    [("centre", "renfang-manager"), ("centre", ""), ("nobody", "renfang-centre")],
)
def test_a_wrong_password_or_unknown_user_is_refused(username: str, password: str):
    assert authenticate(username, password) is None


def test_passwords_are_stored_as_bcrypt_hashes_only():
    text = (Path(__file__).parents[3] / "dashboards" / "users.yaml").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    for password in DEFAULT_PASSWORDS.values():
        assert password not in body
    assert body.count("$2b$12$") == len(DEFAULT_PASSWORDS)


def test_association_and_public_cannot_open_firm_profiles_or_inspector_data():
    association = User(username="a", name="a", role="association")
    public = User(username="p", name="p", role="public")
    # both see the legal lists (严重失信主体名单, 行政处罚信息公示; issue 14)
    assert allowed_pages(association) == ("tier_list", "public_lists")
    assert allowed_pages(public) == ("tier_list", "round_results", "public_lists")
    for user in (association, public):
        assert not may_open(user, "cases")
    for user in (association, public):
        for page in ("overview", "firm_profile", "rounds", "data_quality", "validation"):
            assert not may_open(user, page)
    assert not may(public, "scores") and may(association, "download")


def test_centre_and_manager_open_every_page_but_only_the_centre_refreshes():
    centre = User(username="c", name="c", role="centre")
    manager = User(username="m", name="m", role="manager")
    assert allowed_pages(centre) == allowed_pages(manager) == PAGES
    assert may(centre, "refresh") and not may(manager, "refresh")


def test_a_users_file_with_an_unknown_role_or_a_plain_password_is_rejected(tmp_path: Path):
    good = hash_password("x")
    unknown_role = tmp_path / "a.yaml"
    unknown_role.write_text(
        f"credentials:\n  usernames:\n    u: {{name: U, password: '{good}', roles: [boss]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(AccessConfigError, match=r"usernames\.u\.roles: unknown role 'boss'"):
        load_users(unknown_role)
    plain = tmp_path / "b.yaml"
    plain.write_text(
        "credentials:\n  usernames:\n    u: {name: U, password: secret, roles: [public]}\n",
        encoding="utf-8",
    )
    with pytest.raises(AccessConfigError, match=r"credentials\.usernames\.u\.password"):
        load_users(plain)


def test_a_production_users_file_replaces_the_defaults(tmp_path: Path, monkeypatch):
    users = tmp_path / "users.yaml"
    users.write_text(
        "credentials:\n  usernames:\n"
        f"    chief: {{name: 主任, password: '{hash_password('long-secret')}', roles: [centre]}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RENFANG_USERS", str(users))
    assert authenticate("centre", "renfang-centre") is None
    chief = authenticate("chief", "long-secret")
    assert chief is not None and chief.role == "centre"


def test_the_demo_users_need_the_demo_flag(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("RENFANG_DEMO_USERS")
    with pytest.raises(AccessConfigError, match="RENFANG_USERS is not set: refusing") as error:
        users_source()
    assert str(error.value).split("\n")[0].startswith("未设置 RENFANG_USERS")
    monkeypatch.setenv("RENFANG_USERS", str(DEFAULT_USERS))  # naming the shipped file: same
    with pytest.raises(AccessConfigError):
        users_source()
    own = tmp_path / "users.yaml"
    monkeypatch.setenv("RENFANG_USERS", str(own))
    assert users_source() == (own, False)
    monkeypatch.setenv("RENFANG_DEMO_USERS", "1")
    monkeypatch.delenv("RENFANG_USERS")
    assert users_source() == (DEFAULT_USERS, True)


def test_an_unknown_name_takes_as_long_to_refuse_as_a_wrong_password():
    """±30 %: the unknown name is checked against a dummy hash of the same bcrypt cost.

    Measured as this thread's CPU time, known and unknown names taking turns, so a busy
    machine (other processes on the same cores) slows both alike instead of failing the test.
    """
    authenticate("nobody", "x")  # load the file and make the dummy hash first
    spent: dict[str, list[float]] = {"centre": [], "no-such-user": []}
    for _ in range(5):
        for username, times in spent.items():
            start = time.thread_time()
            assert authenticate(username, "wrong-password") is None
            times.append(time.thread_time() - start)
    known, unknown = (statistics.median(times) for times in spent.values())
    assert known > 0.02  # a real bcrypt check, not a short cut
    assert 0.7 < unknown / known < 1.3, (known, unknown)


def test_a_password_longer_than_bcrypt_reads_is_refused_not_a_crash():
    assert authenticate("centre", "x" * 200) is None
    assert authenticate("nobody", "x" * 200) is None
