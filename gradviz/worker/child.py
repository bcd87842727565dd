"""A compute process and the parent's end of its pipe: start, send, receive, end.

Spawned, never forked: the parent runs Qt threads (and TensorFlow may run its own), and
forking a multi-threaded process can deadlock the child.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

_SPAWN = multiprocessing.get_context("spawn")
STOP_GRACE_S = 0.5


class Child:
    """One process running ``target(conn, *args)``; ``conn`` is the parent's end. The
    process carries ``name`` (``gradviz paths``, ``gradviz problem``, ``gradviz sweep``)."""

    def __init__(self, name: str, target: Callable[..., None], *args: Any) -> None:
        self.conn, child_end = _SPAWN.Pipe(duplex=True)
        self.process = _SPAWN.Process(
            target=target, args=(child_end, *args), name=name, daemon=True
        )
        self.process.start()
        child_end.close()

    def send(self, message: object) -> bool:
        """Send unless the child is gone; False means it is."""
        try:
            self.conn.send(message)
        except (BrokenPipeError, EOFError, OSError):
            return False
        return True

    def receive(self) -> tuple[bool, object]:
        """(True, the next message), or (False, None) when the child has exited."""
        try:
            return True, self.conn.recv()
        except (EOFError, OSError):
            return False, None

    def exit_code(self) -> int | None:
        self.process.join(STOP_GRACE_S)
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
