"""The window's parts of issue 19: File > Open data (a bad file is a message box and the
problem stays), the kernel selector showing only the kernel's parameters, the editor on
data from a file, sessions that pin the sample, and settings that keep the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import FAST, Lab
from PyQt6.QtCore import QSettings
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from gradviz.core.io.presets import load_presets
from gradviz.core.problem.kernels import KERNELS, parameters_of
from gradviz.core.problem.spec import Problem
from gradviz.core.problem.vector import Vector
from gradviz.gui.controls import ProblemEditor
from gradviz.gui.settings import WindowSettings

X = np.array([0.3, -1.2, 2.5, 0.9, -0.4, 1.7, -2.0, 0.1])  # unsorted
Y = np.cos(X)


def write_points(folder: Path) -> Path:
    path = folder / "points.csv"
    rows = "\n".join(f"{a!r},{b!r}" for a, b in zip(X.tolist(), Y.tolist(), strict=True))
    path.write_text("x,y\n" + rows + "\n", encoding="utf-8")
    return path


def data_problem() -> Problem:
    return FAST.replace(points=Vector.of(X), y=Vector.of(Y))


def choose_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(path), ""))


def test_open_data_puts_the_points_under_the_current_kernel(
    qtbot: QtBot, lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_file(monkeypatch, write_points(tmp_path))
    action = lab.window.findChild(QAction, "open_data")
    assert action is not None and action.text() == "Open &data…"
    action.trigger()
    problem = lab.model.problem
    assert problem == data_problem()
    assert lab.model.x == problem.default_x == 0.25
    lab.settle(qtbot)
    data = lab.model.results.data
    assert data is not None and np.array_equal(data.grid, X) and np.array_equal(data.y, Y)
    source = lab.window.editor.findChild(QLabel, "source")
    assert source is not None and source.isVisibleTo(lab.window.editor)
    assert "8 points" in source.text()


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"x,y\n1,2\n3,abc\n", "line 3: 'abc' is not a number"), (b"", "it is empty")],
)
def test_a_bad_data_file_is_a_message_box_and_the_problem_stays(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, words: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, title, text: shown.append((title, text))
    )
    before = (lab.model.problem, lab.model.x)
    assert lab.window.files.open_data(path) is False
    assert shown == [("Cannot open data", f"Cannot read data {path}: {words}")]
    assert (lab.model.problem, lab.model.x) == before


def test_the_kernel_selector_shows_only_the_kernels_parameters(qtbot: QtBot) -> None:
    editor = ProblemEditor()
    qtbot.addWidget(editor)
    editor.set_problem(FAST)
    box = editor.findChild(QComboBox, "kernel")
    form = editor.findChild(QFormLayout)
    assert box is not None and form is not None
    for name in [*KERNELS[1:], KERNELS[0]]:  # rbf is shown first: choose it last
        with qtbot.waitSignal(editor.problem_applied) as applied:
            box.setCurrentIndex(KERNELS.index(name))
        problem = applied.args[0]
        assert problem == FAST.replace(kernel=name)
        for field in ("alpha", "period"):
            visible = form.isRowVisible(editor.line_edit(field))
            assert visible == (field in parameters_of(name)), (name, field)
    box.setCurrentIndex(KERNELS.index("periodic"))
    editor.line_edit("period").setText("0")
    assert editor.apply() is False
    assert "period" in (editor.field_error("period") or "")


def test_editing_a_data_problem_keeps_its_data(qtbot: QtBot) -> None:
    editor = ProblemEditor()
    qtbot.addWidget(editor)
    editor.set_problem(data_problem())
    editor.line_edit("length_scale").setText("0.7")
    editor.line_edit("signal_variance").setText("2")
    with qtbot.waitSignal(editor.problem_applied) as applied:
        assert editor.apply()
    assert applied.args[0] == data_problem().replace(length_scale=0.7, signal_variance=2.0)


def test_typing_a_grid_field_on_data_goes_back_to_the_grid(qtbot: QtBot) -> None:
    editor = ProblemEditor()
    qtbot.addWidget(editor)
    editor.set_problem(data_problem().replace(kernel="matern32"))
    editor.line_edit("n").setText("30")
    with qtbot.waitSignal(editor.problem_applied) as applied:
        assert editor.apply()
    problem = applied.args[0]
    assert not problem.from_file and problem.y is None
    assert problem == Problem(
        n=30, domain=(-2.0, 2.5), kernel="matern32", jitter=FAST.jitter, solver=FAST.solver
    )
    source = editor.findChild(QLabel, "source")
    assert source is not None and not source.isVisibleTo(editor)


def test_the_mauna_loa_preset_is_data_with_its_kernel(qtbot: QtBot) -> None:
    editor = ProblemEditor()
    qtbot.addWidget(editor)
    editor.set_problem(FAST)
    presets = editor.findChild(QComboBox, "presets")
    assert presets is not None
    (index,) = [i for i, p in enumerate(load_presets()) if p.name.startswith("Mauna Loa")]
    with qtbot.waitSignal(editor.problem_applied) as applied:
        presets.setCurrentIndex(index)
    problem = applied.args[0]
    assert problem == load_presets()[index].problem
    assert problem.from_file and problem.n == 264 and problem.kernel == "matern52"


def test_a_saved_session_pins_the_sample_and_settings_keep_the_data(qtbot: QtBot, lab: Lab) -> None:
    data = lab.model.results.data
    assert data is not None and lab.model.problem.y is None
    session = lab.window.files.session()
    assert session.problem == FAST.replace(y=Vector.of(data.y))
    lab.window.controller.apply_problem(data_problem())
    lab.window.close()
    saved = WindowSettings(QSettings(str(lab.settings_file), QSettings.Format.IniFormat))
    assert saved.problem() == data_problem()
