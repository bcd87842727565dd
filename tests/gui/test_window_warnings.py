"""The window prints no warning: the seed and every preset through the model over recorded
workers, probe moves, and the Sweeps tab with provisional rows that have no digits yet.

Every warning is recorded (Qt slots and paint events included, where an error would be
swallowed by the event loop) and the test fails on any. ``tests/test_no_warnings.py``
covers the commands.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

from conftest import Lab
from PyQt6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from records import make_jitter_sweep

from gradviz.core.io.presets import load_presets
from gradviz.core.problem.spec import DEFAULT_X, Problem
from gradviz.worker.messages import SweepResult


def _paint(lab: Lab) -> None:
    lab.window.repaint()
    QApplication.processEvents()


def test_seed_presets_and_sweeps_print_no_warning(
    qtbot: QtBot, open_lab: Callable[..., Lab]
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lab = open_lab(Problem(), DEFAULT_X)
        lab.settle(qtbot)
        lab.window.tabs.setCurrentWidget(lab.window.sweeps)
        qtbot.waitUntil(lambda: lab.sweeps.current is not None, timeout=3000)
        problem, x = lab.sweeps.current
        for references_from in (math.inf, 1e-4):  # no reference yet: no row has digits
            partial = make_jitter_sweep(problem, x, references_from=references_from)
            lab.sweeps.result.emit(SweepResult(partial, final=False))
            _paint(lab)
        lab.sweeps.answer(final=True)
        _paint(lab)
        lab.window.tabs.setCurrentWidget(lab.window.plots)
        for x in (-4.9, 0.0, 3.3, DEFAULT_X):
            lab.window.controller.move_to(x)
            lab.settle(qtbot)
            _paint(lab)
        for preset in load_presets():
            lab.window.controller.apply_problem(preset.problem)
            lab.settle(qtbot)
            _paint(lab)
    assert [str(w.message) for w in caught] == []
