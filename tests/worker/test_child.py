"""The parent's end of a child process: typed messages only, pause and continue, close."""

from __future__ import annotations

import logging
import time
from multiprocessing.connection import Connection
from pathlib import Path

from gradviz.core.problem.spec import Problem
from gradviz.worker.child import Child, signal_child
from gradviz.worker.messages import PathsReady, ProbeRequest


def _echo(conn: Connection) -> None:
    """Answer every message with a record of the protocol, then something that is not."""
    while True:
        conn.recv()
        conn.send(PathsReady(0.5))
        conn.send(("probe", 1.0))  # a tuple with a "kind" string: not a message


def _state(pid: int | None) -> str:
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]


def test_a_message_of_no_protocol_type_is_logged_and_dropped(caplog) -> None:
    child = Child("gradviz test", _echo)
    try:
        assert child.send(ProbeRequest(Problem(n=5), 1.0))
        assert child.receive() == (True, PathsReady(0.5))
        with caplog.at_level(logging.ERROR, logger="gradviz.worker.child"):
            assert child.receive() == (True, None)
        assert "unknown type" in caplog.text
    finally:
        child.close()


def test_a_stopped_child_is_continued_and_ends_on_close() -> None:
    child = Child("gradviz test", _echo)
    signal_child(child.pid, resume=False)
    deadline = time.monotonic() + 5
    while _state(child.pid) != "T" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _state(child.pid) == "T"
    signal_child(child.pid, resume=True)
    signal_child(child.pid, resume=False)
    started = time.monotonic()
    child.close()  # stopped: SIGTERM alone would wait for a SIGCONT
    assert time.monotonic() - started < 1.0
    signal_child(123456789, resume=True)  # a process that is gone is no error
