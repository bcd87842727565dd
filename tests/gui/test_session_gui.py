"""Sessions in the window: session() captures what is shown, apply_session() shows a session.

The window runs over recorded workers (``open_lab`` in conftest.py): no process, no
TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FAST, Lab
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QCheckBox

from gradviz.core.io.session import Session, View, load_session, save_session
from gradviz.core.problem.spec import Problem
from gradviz.core.problem.vector import Vector
from gradviz.gui.main_window import MainWindow
from gradviz.gui.panel_text import TSV_HEADER

START_X = 2.0


def table_rows(window: MainWindow) -> dict[str, list[str]]:
    lines = window.panel.table_text().splitlines()
    assert lines[0].split("\t") == list(TSV_HEADER)
    return {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:]}


def show_mu_box(window: MainWindow) -> QCheckBox:
    box = window.panel.findChild(QCheckBox, "show_mu")
    assert box is not None
    return box


def assert_range(actual: tuple[float, float] | None, expected: tuple[float, float]) -> None:
    assert actual is not None
    assert actual == pytest.approx(expected, abs=1e-9 * (expected[1] - expected[0]))


def pinned(lab: Lab, problem: Problem) -> Problem:
    """``problem`` with the sample the window drew for it, as a saved session holds it."""
    data = lab.model.results.data
    assert data is not None and data.problem == problem
    return problem.replace(y=Vector.of(data.y))


def test_session_reflects_what_the_window_shows(qtbot, lab: Lab, tmp_path: Path) -> None:
    window = lab.window
    session = window.files.session()
    assert session.problem == pinned(lab, FAST)
    assert session.x == START_X
    assert session.view.show_mu is True and window.panel.shows_mu()
    assert session.view.x_range == window.plots.view_x_range()
    lo, hi = session.view.x_range
    assert lo <= FAST.domain[0] < FAST.domain[1] <= hi  # the whole domain is in view

    # The user hides mu, zooms, and steps the probe: the session follows each change.
    qtbot.mouseClick(show_mu_box(window), Qt.MouseButton.LeftButton)
    assert not window.panel.shows_mu()
    window.plots.set_view_x_range(-1.0, 1.5)
    window.controller.nudge(3)
    session = window.files.session()
    assert session.view.show_mu is False
    assert_range(session.view.x_range, (-1.0, 1.5))
    assert session.x == START_X + 3 * window.model.grid_step() == window.model.x
    assert session.problem == pinned(lab, FAST)

    # Through a file and back: the same session.
    path = tmp_path / "lab.json"
    save_session(path, session)
    assert load_session(path) == session


def test_apply_session_shows_another_problem_x_and_view(qtbot, lab: Lab) -> None:
    window = lab.window
    other = Session(
        problem=FAST.replace(n=41, seed=7, length_scale=1.2),
        x=-1.25,
        view=View(show_mu=False, x_range=(-3.0, 0.5)),
    )
    assert other.problem != window.model.problem
    window.files.apply_session(other)
    assert not window.model.is_complete()
    assert window.model.problem == other.problem
    assert window.model.x == other.x
    lab.settle(qtbot)
    assert window.model.problem == other.problem
    assert window.editor.problem() == other.problem
    assert window.windowTitle() == f"gradviz — {other.problem.summary()}"
    assert window.model.x == other.x == window.plots.marker_x()
    assert not window.panel.shows_mu() and not show_mu_box(window).isChecked()
    # The zoom survives the data and curves of the new problem arriving.
    assert_range(window.plots.view_x_range(), (-3.0, 0.5))
    shown = window.model.report
    assert shown is not None
    assert shown.result.problem == other.problem and shown.result.x == other.x
    rows = table_rows(window)
    assert rows["x"] == [repr(other.x)]
    assert rows["problem"] == [other.problem.description()]
    assert "stale" not in rows

    session = window.files.session()
    assert session.problem == pinned(lab, other.problem) and session.x == other.x
    assert session.view.show_mu is False
    assert_range(session.view.x_range, (-3.0, 0.5))

    # The same problem again, with another x and mu shown: only x and the view change.
    again = Session(other.problem, 0.75, View(show_mu=True, x_range=None))
    zoom = window.plots.view_x_range()
    window.files.apply_session(again)
    lab.settle(qtbot)
    assert window.model.problem == other.problem and window.model.x == 0.75
    assert window.panel.shows_mu()
    assert window.plots.view_x_range() == zoom  # no saved zoom: the view stays as it is
    assert table_rows(window)["x"] == [repr(0.75)]


def test_a_session_x_outside_its_domain_is_clamped_with_a_note(qtbot, lab: Lab) -> None:
    window = lab.window
    narrow = Session(FAST.replace(domain=(-1.0, 1.0)), x=3.0, view=View(True, None))
    window.files.apply_session(narrow)
    lab.settle(qtbot)
    assert window.model.problem == narrow.problem
    assert window.model.x == 1.0 == window.plots.marker_x()
    message = window.statusBar().currentMessage()
    assert "outside the new domain" in message and "3" in message and "1" in message
    assert table_rows(window)["x"] == [repr(1.0)]
    lo, hi = window.plots.view_x_range()
    assert lo <= -1.0 < 1.0 <= hi and hi - lo < 3  # the view shows the new, narrow domain
    assert window.files.session().x == 1.0

    # Below the domain: clamped to the low end.
    low = Session(FAST.replace(domain=(0.0, 4.0)), x=-7.5, view=View(True, None))
    window.files.apply_session(low)
    lab.settle(qtbot)
    assert window.model.x == 0.0
    assert "outside the new domain" in window.statusBar().currentMessage()


def test_a_zoom_beyond_any_coordinate_is_not_kept_in_the_session(
    qtbot, lab: Lab, tmp_path: Path
) -> None:
    """Loading refuses such a zoom (see test_session.py); a user can still zoom out that far
    with the mouse, and the session then keeps no x range rather than a meaningless one."""
    window = lab.window
    window.plots.set_view_x_range(-1e300, 1e300)
    qtbot.wait(100)
    assert window.files.session().view.x_range is None
    save_session(tmp_path / "lab.json", window.files.session())
    assert load_session(tmp_path / "lab.json").view.x_range is None
