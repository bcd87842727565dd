"""Edit > Undo and Redo: one step between two (problem, x) states of the window.

Consecutive probe moves within MERGE_MOVES_S merge into one step, so undoing a drag
returns to where it started.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt6.QtGui import QUndoCommand

from gradviz.gui.model import ProbeKey

MOVE_COMMAND_ID = 1
MERGE_MOVES_S = 1.0  # probe moves closer together than this are one undo step (a drag)


class StateChange(QUndoCommand):
    """From ``before`` to ``after``; ``go_to`` shows a state without recording it."""

    def __init__(
        self,
        go_to: Callable[[ProbeKey], None],
        before: ProbeKey,
        after: ProbeKey,
        text: str,
        merge: bool,
    ) -> None:
        super().__init__(text)
        self._go_to, self.before, self.after = go_to, before, after
        self._merge = merge
        self._at = time.monotonic()
        self._done = True  # pushed after the window already shows ``after``

    def changes_problem(self) -> bool:
        return self.before.problem != self.after.problem

    def id(self) -> int:
        return MOVE_COMMAND_ID if self._merge else -1

    def mergeWith(self, other: QUndoCommand | None) -> bool:
        if not isinstance(other, StateChange) or other._at - self._at > MERGE_MOVES_S:
            return False
        self.after, self._at = other.after, other._at
        self.setText(other.text())
        return True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._go_to(self.after)

    def undo(self) -> None:
        self._go_to(self.before)
