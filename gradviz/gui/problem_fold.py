"""The Problem editor in a section that folds away (superqt's QCollapsible).

Nobody edits the problem most of the time, and at 1280x720 an open editor pushes the
Gradients panel down the side column. Folded, the section is one line naming the problem;
a click opens it. Whether it is open is the user's choice and is remembered.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, pyqtSignal
from PyQt6.QtWidgets import QWidget
from superqt import QCollapsible

from gradviz.core.problem.spec import Problem


class ProblemFold(QCollapsible):
    """``editor`` under a title that names the problem; ``expanded_changed`` says when the
    user opens or folds it."""

    expanded_changed = pyqtSignal(bool)

    def __init__(self, editor: QWidget, expanded: bool) -> None:
        super().__init__("Problem")
        self.setObjectName("problem_fold")
        self.toggleButton().setObjectName("problem_fold_button")
        self.toggleButton().setToolTip("Show or hide the Problem editor")
        self.setDuration(120)
        self.addWidget(editor)
        self._expanded = expanded
        if expanded:
            self.expand(animate=False)
        self.toggled.connect(self._on_toggled)
        self._regrow = _Regrow(self)
        editor.installEventFilter(self._regrow)

    def show_problem(self, problem: Problem) -> None:
        self.setText(f"Problem: {problem.summary()}")

    def _on_toggled(self, expanded: bool) -> None:
        if expanded != self._expanded:
            self._expanded = expanded
            self.expanded_changed.emit(expanded)


class _Regrow(QObject):
    """Open, the editor may need more height (a kernel with more parameters): QCollapsible
    keeps the height the editor had when it opened, so open it again at its new size."""

    def __init__(self, fold: ProblemFold) -> None:
        super().__init__(fold)
        self._fold = fold

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        laid_out = event is not None and event.type() == QEvent.Type.LayoutRequest
        if laid_out and self._fold.isExpanded():
            self._fold.expand(animate=False)
        return False
