"""A compute process and the parent's end of its pipe: start, send, receive, pause, end.

Spawned, never forked: the parent runs Qt threads (and TensorFlow may run its own), and
forking a multi-threaded process can deadlock the child. Messages both ways are the typed
records of :mod:`gradviz.worker.messages`; anything else that arrives is a protocol error,
logged and dropped.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable

from gradviz.worker.messages import ChildReply, ChildRequest

_SPAWN = multiprocessing.get_context("spawn")
STOP_GRACE_S = 0.5
log = logging.getLogger(__name__)


class Child:
    """One process running ``target(conn, *args)``; ``conn`` is the parent's end. The
    process carries ``name`` (``gradviz paths``, ``gradviz problem``, ``gradviz sweep``)."""

    def __init__(self, name: str, target: Callable[..., None], *args: object) -> None:
        self.target, self.args = target, args
        self.closed = False
        self.conn, child_end = _SPAWN.Pipe(duplex=True)
        self.process = _SPAWN.Process(
            target=target, args=(child_end, *args), name=name, daemon=True
        )
        self.process.start()
        child_end.close()
        self.pid = self.process.pid

    def send(self, message: ChildRequest) -> bool:
        """Send unless the child is gone; False means it is."""
        try:
            self.conn.send(message)
        except (BrokenPipeError, EOFError, OSError):
            return False
        return True

    def receive(self) -> tuple[bool, ChildReply | None]:
        """(True, the next message), (True, None) for a message of an unknown type, or
        (False, None) when the child has exited."""
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            return False, None
        if isinstance(message, ChildReply):
            return True, message
        log.error("dropped a message of unknown type from %s: %r", self.process.name, message)
        return True, None

    def exit_code(self) -> int | None:
        self.process.join(STOP_GRACE_S)
        return self.process.exitcode

    def close(self) -> None:
        """End the child now: terminate (SIGTERM), then kill if it lingers.

        No polite shutdown: the children hold no state worth saving, and TensorFlow's
        interpreter teardown alone takes longer than a user waits for a window to close.
        Closing again does nothing (whoever started a child may close it after the driver
        that adopted it did).
        """
        if self.closed:
            return
        self.closed = True
        if self.process.is_alive():
            self.process.terminate()
            signal_child(self.pid, resume=True)  # a stopped child dies only once continued
            self.process.join(STOP_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.process.close()


def signal_child(pid: int | None, resume: bool) -> None:
    """Stop (SIGSTOP) or continue (SIGCONT) a child process; gone already is fine. Safe
    from any thread: the GUI thread continues children the worker thread stopped, so a
    worker blocked on a half-sent message from a stopped child is never left waiting."""
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT if resume else signal.SIGSTOP)
