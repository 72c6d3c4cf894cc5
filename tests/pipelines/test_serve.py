"""`renfang ui` (pipelines/serve.py): the Dagster UI, the dashboards and the Data Docs site.

Runs the real command on free ports with a temporary warehouse and Dagster instance, and checks
that all three servers answer, that the Data Docs server publishes `<reports>/gx_docs` and
nothing beside it, and that every server it started stops (ports closed, no process of its
tree left running) on one SIGTERM (`kill`) to `renfang ui`, and when one server dies on its
own (`dagster dev` killed: its webserver, daemon and code servers must go too).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.connection import PROJECT_ROOT

pytestmark = pytest.mark.slow

START_TIMEOUT = 90  # seconds for `dagster dev` to load the code location on a busy machine
STOP_TIMEOUT = 30


def _free_ports(n: int) -> list[int]:
    """n distinct ports free right now (all sockets held open together, so none repeats)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET (an HTTP error status is an answer too)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _raw_get(port: int, path: str) -> bytes:
    """A GET with the path sent verbatim (urllib would normalise `..` away before sending)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state, ppid, ... starttime at 19)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:  # no such process (any more)
        return None


def _alive(pid: int, started: str) -> bool:
    """Still running: the same process (not a reused pid) and not a zombie waiting to be
    reaped (that one has stopped already)."""
    fields = _stat(pid)
    return fields is not None and fields[19] == started and fields[0] != "Z"


def _descendants(pid: int) -> dict[int, str]:
    """Every process below `pid` (children in their own sessions included), with its start
    time, which tells it apart from a later process given the same pid."""
    children: dict[int, list[tuple[int, str]]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(int(stat.parent.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append((int(stat.parent.name), fields[19]))
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child, started in children.get(todo.pop(), []):
            if child not in found:
                found[child] = started
                todo.append(child)
    return found


def _wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return condition()


class Served:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.reports = root / "reports"  # beside the warehouse: Warehouse().reports
        self.docs = self.reports / "gx_docs"
        self.log = root / "renfang-ui.log"
        self.dagster, self.dashboards, self.data_docs = _free_ports(3)
        self.process: subprocess.Popen | None = None
        self.seen: dict[int, str] = {}  # every descendant ever observed: pid -> start time

    def start(self) -> None:
        self.docs.mkdir(parents=True)
        (self.docs / "index.html").write_text("<h1>GX Data Docs probe</h1>", encoding="utf-8")
        (self.reports / "secret.csv").write_text("not,published\n", encoding="utf-8")
        (self.root / "outside.txt").write_text("not published either\n", encoding="utf-8")
        env = {
            **os.environ,
            "RENFANG_WAREHOUSE": str(self.root / "warehouse.duckdb"),
            "DAGSTER_HOME": str(self.root / "dagster_home"),
            "RENFANG_DEMO_USERS": "1",  # the shipped users: a local test, not a server
        }
        for name in ("RENFANG_REPORTS", "RENFANG_DOCS_URL", "RENFANG_USERS"):
            env.pop(name, None)
        command = [
            str(Path(sys.executable).with_name("renfang")), "ui",
            "--port", str(self.dagster), "--dashboard-port", str(self.dashboards),
            "--docs-port", str(self.data_docs),
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # our signal reaches `renfang ui` alone, as `kill` would
            )  # fmt: skip

    def look(self) -> dict[int, str]:
        assert self.process is not None
        live = _descendants(self.process.pid)
        self.seen |= live
        return live

    def running(self) -> dict[int, str]:
        """The processes of this server tree still running, with their command lines: every
        descendant observed, and any process started with this test's warehouse in its
        environment (one started after the last look, or below a child that exited)."""
        marker = f"RENFANG_WAREHOUSE={self.root / 'warehouse.duckdb'}".encode()
        for environ in Path("/proc").glob("[0-9]*/environ"):
            pid = int(environ.parent.name)
            try:
                if pid != os.getpid() and marker in environ.read_bytes().split(b"\0"):
                    fields = _stat(pid)
                    if fields is not None:
                        self.seen.setdefault(pid, fields[19])
            except OSError:  # exited, or not ours to read
                continue
        alive = {}
        for pid, started in self.seen.items():
            if _alive(pid, started):
                try:
                    alive[pid] = (
                        Path(f"/proc/{pid}/cmdline").read_bytes()[:200].decode(errors="replace")
                    )
                except OSError:
                    continue
        return alive

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def kill_everything(self) -> None:
        """Teardown after a failure: nothing this test started may outlive it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.look()
            self.process.kill()
        for pid in self.running():  # only processes of this tree, checked by start time
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = Served(tmp_path)
    s.start()
    try:
        yield s
    finally:
        s.kill_everything()


def _stop(s: Served, how: str) -> int:
    """Stop `renfang ui` the way a user (a signal to it) or a crash (of `dagster dev`) does;
    the exit code it should end with."""
    assert s.process is not None
    if how == "dagster dev dies":  # killed alone, as the OOM killer would: its children stay
        dagster_dev = f"{Path(sys.executable).with_name('dagster')}\0dev\0"
        dev = [pid for pid, command in s.running().items() if dagster_dev in command]
        assert len(dev) == 1, s.running()
        os.kill(dev[0], signal.SIGKILL)
        return 1  # and it says which server exited
    s.process.send_signal(getattr(signal, how))
    return 0


# Ctrl-C (SIGINT) takes the same path as SIGTERM (both raise KeyboardInterrupt in serve); it
# is left out to keep this module under a minute (each case starts `dagster dev` afresh).
@pytest.mark.parametrize("how", ["SIGTERM", "dagster dev dies"])
def test_renfang_ui_serves_three_servers_publishes_only_gx_docs_and_stops_them_all(
    served: Served, how: str
):
    s = served
    assert s.process is not None
    urls = {
        "Dagster UI": f"http://127.0.0.1:{s.dagster}/server_info",
        "dashboards": f"http://127.0.0.1:{s.dashboards}/_stcore/health",
        "Data Docs": f"http://127.0.0.1:{s.data_docs}/index.html",
    }
    waiting = dict(urls)
    deadline = time.monotonic() + START_TIMEOUT
    while waiting and time.monotonic() < deadline:
        assert s.process.poll() is None, f"renfang ui exited early:\n{s.output()}"
        for name, url in list(waiting.items()):
            try:
                if _get(url)[0] == 200:
                    del waiting[name]
            except OSError:
                pass
        s.look()
        time.sleep(0.5)
    assert not waiting, f"{sorted(waiting)} did not answer in {START_TIMEOUT} s:\n{s.output()}"

    out = s.output()
    for port in (s.dagster, s.dashboards, s.data_docs):
        assert f"http://127.0.0.1:{port}" in out, out

    # The Data Docs server publishes gx_docs and nothing beside or above it.
    status, body = _get(urls["Data Docs"])
    assert status == 200 and b"GX Data Docs probe" in body
    assert _get(f"http://127.0.0.1:{s.data_docs}/secret.csv")[0] == 404
    for path in ("/../secret.csv", "/%2e%2e/secret.csv", "/../../outside.txt", "//../secret.csv"):
        answer = _raw_get(s.data_docs, path)
        assert b"not,published" not in answer and b"not published" not in answer, path
        assert answer.startswith(b"HTTP/1.0 404"), (path, answer[:80])

    # One SIGTERM (a plain `kill`) to `renfang ui`, or one of the servers dying, stops all
    # three servers and every process below them.
    running = s.look()
    assert len(running) >= 3, running  # dagster dev (+ webserver, daemon), streamlit, http.server
    expected = _stop(s, how)
    try:
        code = s.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"renfang ui still running {STOP_TIMEOUT} s after {how}:\n{s.output()}")
    assert code == expected, s.output()
    if how == "dagster dev dies":
        assert "Dagster UI exited with code -9" in s.output(), s.output()
    ports = (s.dagster, s.dashboards, s.data_docs)
    assert _wait_until(lambda: not any(_listening(p) for p in ports), 10), [
        p for p in ports if _listening(p)
    ]
    assert _wait_until(lambda: not s.running(), 10), s.running()
