"""The audit log read from its end: appending and finding the latest entry of an act never
read the whole log, and give what reading it whole gives."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse import audit

ACTS = ("run_started", "penalty_feed", "export")


@settings(max_examples=25, deadline=None)
@given(
    entries=st.lists(
        st.tuples(
            st.sampled_from(ACTS), st.integers(0, 20_000), st.sampled_from(["", "\u2028", "名"])
        ),
        min_size=0,
        max_size=12,
    )
)
def test_appending_and_the_latest_entry_agree_with_reading_the_log_whole(
    tmp_path_factory, entries: list[tuple[str, int, str]]
) -> None:
    # details of up to ~80 KB: entries cross the 64 KiB chunks the log is read backwards in
    log = tmp_path_factory.mktemp("audit") / "w.audit.jsonl"
    for number, (action, size, text) in enumerate(entries):
        audit.append(log, action, {"n": number, "pad": (text + "x") * size}, actor="t")
    whole = audit.read(log)
    assert [e["seq"] for e in whole] == list(range(1, len(entries) + 1))
    assert [e["detail"]["n"] for e in whole] == list(range(len(entries)))
    assert audit.verify_chain(log) == audit.ChainCheck(len(entries), True, None)
    for action in ACTS:
        expected = [e for e in whole if e["action"] == action]
        assert audit.last(log, action) == (expected[-1] if expected else None)


def test_a_damaged_last_line_still_numbers_the_next_entry(tmp_path: Path) -> None:
    log = tmp_path / "w.audit.jsonl"
    audit.append(log, "run_started", {"n": 1}, actor="t")
    with log.open("a", encoding="utf-8") as handle:
        handle.write("not json\n")
    entry = audit.append(log, "run_started", {"n": 2}, actor="t")
    assert entry["seq"] == 3
    assert audit.verify_chain(log) == audit.ChainCheck(3, False, 2)
    assert audit.last(tmp_path / "absent.jsonl", "run_started") is None
