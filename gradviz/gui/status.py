"""The status bar as a view of the model: what runs and for how long, Retry, Cancel, and
the model's one-off notices.

Every task in words; one running for a while also says for how long (a clock that ticks
each second while anything runs). Retry shows while a process waits after repeated
failures; Cancel while a new problem is set up and the model knows the one to go back to.
"""

from __future__ import annotations

import time

from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from gradviz.gui.model import Tasks, WindowModel

STATUS_TIMEOUT_MS = 8000
ELAPSED_SHOWN_AFTER_S = 2.0  # a task running longer says for how long
CLOCK_MS = 500  # half a second: a timer firing early never skips a whole second


def tasks_text(tasks: Tasks, now: float) -> str:
    """Every task in words, joined; one running ELAPSED_SHOWN_AFTER_S or more says how long."""
    words = []
    for state in tasks.states:
        elapsed = 0.0 if state.since is None else now - state.since
        shown = elapsed >= ELAPSED_SHOWN_AFTER_S
        words.append(f"{state.message} ({elapsed:.0f} s)" if shown else state.message)
    return " · ".join(words)


class StatusView(QWidget):
    """Fills ``bar`` with the tasks label, a busy bar, Retry and Cancel; shows notices."""

    retry_clicked = pyqtSignal()
    cancel_clicked = pyqtSignal()

    def __init__(self, model: WindowModel, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.hide()  # a holder of the bar's widgets, not drawn itself
        self._model, self._bar = model, bar
        self.label = QLabel()
        self.label.setObjectName("tasks")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.retry = QPushButton("Retry")
        self.retry.setObjectName("retry")
        self.retry.setToolTip("Start the compute process that stopped after repeated failures")
        self.retry.clicked.connect(self.retry_clicked)
        self.retry.hide()
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("cancel")
        self.cancel.setToolTip("Stop computing this problem and return to the previous one")
        self.cancel.clicked.connect(self.cancel_clicked)
        self.cancel.hide()
        for widget in (self.label, self.busy, self.retry, self.cancel):
            bar.addPermanentWidget(widget)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_MS)
        self._clock.timeout.connect(self._render)
        model.tasks_changed.connect(self._render)
        model.notice.connect(self.show_message)

    def show_message(self, message: str) -> None:
        """A sentence in the status bar for a while."""
        self._bar.showMessage(message, STATUS_TIMEOUT_MS)

    def _render(self) -> None:
        tasks = self._model.tasks
        self.label.setText(tasks_text(tasks, time.monotonic()))
        running = bool(tasks.running())
        self.busy.setVisible(running)
        self.retry.setVisible(tasks.retry())
        setting_up = tasks.busy("data", "curves")
        self.cancel.setVisible(setting_up and self._model.cancel_to is not None)
        if running and not self._clock.isActive():
            self._clock.start()
        elif not running:
            self._clock.stop()
