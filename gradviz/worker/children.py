"""A compute process with a duplex pipe: start, send, receive, kill.

Spawned, never forked: the parent runs Qt threads (and TensorFlow may run its
own), and forking a multi-threaded process can deadlock the child.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

_SPAWN = multiprocessing.get_context("spawn")
STOP_GRACE_S = 0.5


class ChildProcess:
    """One child running ``target(conn, *args)``; ``conn`` is the parent's end."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        self.conn, child_end = _SPAWN.Pipe(duplex=True)
        self.process = _SPAWN.Process(target=target, args=(child_end, *args), daemon=True)
        self.process.start()
        child_end.close()

    def send(self, message: tuple) -> bool:
        """Send unless the child is gone; False tells the caller to restart it."""
        try:
            self.conn.send(message)
        except (BrokenPipeError, EOFError, OSError):
            return False
        return True

    def receive(self) -> tuple | None:
        """The next message, or None when the child has exited."""
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            return None

    def exit_code(self) -> int | None:
        return self.process.exitcode

    def close(self) -> None:
        """End the child now: terminate (SIGTERM), then kill if it lingers.

        No polite shutdown: the children hold no state worth saving, and TensorFlow's
        interpreter teardown alone takes longer than a user waits for a window to close.
        """
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.process.close()
