"""The Problem editor folds away: folded on a fresh config (one line naming the problem,
the Gradients panel at the top of the side column), opened by a click, and the choice is
remembered."""

from __future__ import annotations

from collections.abc import Callable

from conftest import FAST, Lab
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from gradviz.core.problem.spec import Problem


def needed_height(widget: QWidget) -> int:
    """The height that shows all of ``widget`` at its width: with word-wrapped text (the
    quantity's line) that is its height for that width, below its size hint."""
    if widget.hasHeightForWidth():
        return widget.heightForWidth(widget.width())
    return widget.sizeHint().height()


def test_the_editor_is_folded_on_a_fresh_config_and_the_choice_is_kept(
    qtbot: QtBot, open_lab: Callable[..., Lab]
) -> None:
    lab = open_lab()
    fold, editor = lab.window.fold, lab.window.editor
    assert not fold.isExpanded() and editor.visibleRegion().isEmpty()
    assert fold.text() == f"Problem: {FAST.summary()}"
    panel_top = lab.window.panel.mapTo(lab.window, lab.window.panel.rect().topLeft()).y()
    assert panel_top < 150  # the answer and the table start near the top of the column
    qtbot.mouseClick(fold.toggleButton(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fold.content().height() >= needed_height(editor))
    assert lab.settings.editor_expanded()
    lab.window.controller.apply_problem(Problem(n=50))
    assert fold.text() == f"Problem: {Problem(n=50).summary()}"
    lab.window.close()
    reopened = open_lab()
    assert reopened.window.fold.isExpanded()
    qtbot.waitUntil(lambda: not reopened.window.editor.visibleRegion().isEmpty())
    qtbot.mouseClick(reopened.window.fold.toggleButton(), Qt.MouseButton.LeftButton)
    assert not reopened.settings.editor_expanded()
