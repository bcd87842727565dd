"""The window's quantities (issue 20): the Problem editor offers the kernel's quantities
and falls back clearly; an LML quantity's probe moves along theta on a log axis (plots,
marker, x box, panel); one Undo step per change. Recorded workers, no TensorFlow."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import FAST, Lab
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QComboBox, QLabel
from pytestqt.qtbot import QtBot
from test_plots import drag, markers

from gradviz.core.io.session import Session, View, load_session, save_session
from gradviz.core.problem.quantity import QUANTITY
from gradviz.gui.controls import ProblemEditor
from gradviz.gui.x_box import XBox

LML = FAST.replace(quantity="lml-lengthscale")
RBF_QUANTITIES = [
    "mean-slope",
    "variance-slope",
    "lml-lengthscale",
    "lml-signal-variance",
    "lml-jitter",
]


def quantity_box(editor: ProblemEditor) -> QComboBox:
    box = editor.findChild(QComboBox, "quantity")
    assert box is not None
    return box


def choose(box: QComboBox, data: str) -> None:
    """Pick the entry ``data`` as a user does (the index changes, the box emits)."""
    index = box.findData(data)
    assert index >= 0, f"{data} not offered: {[box.itemData(i) for i in range(box.count())]}"
    box.setCurrentIndex(index)


def help_text(editor: ProblemEditor) -> str:
    label = editor.findChild(QLabel, "quantity_help")
    assert label is not None
    return label.text()


@pytest.fixture
def editor(qtbot: QtBot) -> ProblemEditor:
    widget = ProblemEditor()
    qtbot.addWidget(widget)
    widget.set_problem(FAST)
    return widget


@pytest.mark.parametrize(
    ("kernel", "offered"),
    [
        ("rbf", RBF_QUANTITIES),
        ("matern32", RBF_QUANTITIES),
        ("rational-quadratic", [*RBF_QUANTITIES, "lml-alpha"]),
        ("periodic", [*RBF_QUANTITIES, "lml-period"]),
    ],
)
def test_the_selector_offers_only_the_kernels_quantities(
    editor: ProblemEditor, kernel: str, offered: list[str]
) -> None:
    editor.set_problem(FAST.replace(kernel=kernel))
    assert editor.quantities() == offered
    box = quantity_box(editor)
    for index in range(box.count()):  # each entry's formula on hover
        tip = box.itemData(index, Qt.ItemDataRole.ToolTipRole)
        assert tip == QUANTITY[box.itemData(index)].help


def test_choosing_a_quantity_applies_it_and_explains_it_in_one_line(
    qtbot: QtBot, editor: ProblemEditor
) -> None:
    assert help_text(editor) == QUANTITY["mean-slope"].help
    with qtbot.waitSignal(editor.problem_applied) as applied:
        choose(quantity_box(editor), "lml-lengthscale")
    assert applied.args == [FAST.replace(quantity="lml-lengthscale")]
    assert help_text(editor) == QUANTITY["lml-lengthscale"].help
    assert "\n" not in help_text(editor)


def test_a_kernel_without_the_quantity_falls_back_to_the_mean_and_says_so(
    qtbot: QtBot, editor: ProblemEditor
) -> None:
    start = FAST.replace(kernel="rational-quadratic", alpha=2.0, quantity="lml-alpha")
    editor.set_problem(start)
    kernel = editor.findChild(QComboBox, "kernel")
    assert kernel is not None
    with qtbot.waitSignal(editor.problem_applied) as applied:
        kernel.setCurrentIndex(kernel.findData("periodic"))
    problem = applied.args[0]
    assert problem.kernel == "periodic" and problem.quantity == "mean-slope"
    # The rest of the problem stays.
    assert (problem.n, problem.jitter, problem.solver, problem.length_scale) == (
        start.n,
        start.jitter,
        start.solver,
        start.length_scale,
    )
    note = editor.quantity_note()
    assert note is not None and note.startswith("quantity: lml-alpha")
    assert "periodic" in note and "mean-slope" in note
    # Choosing a quantity again clears the note.
    choose(quantity_box(editor), "lml-period")
    assert editor.problem().quantity == "lml-period"
    assert editor.quantity_note() is None


def test_lml_jitter_without_jitter_is_flagged_not_applied(
    qtbot: QtBot, editor: ProblemEditor
) -> None:
    start = FAST.replace(jitter=0.0)
    editor.set_problem(start)
    with qtbot.assertNotEmitted(editor.problem_applied):
        choose(quantity_box(editor), "lml-jitter")
    message = editor.field_error("quantity")
    assert message is not None and message.startswith("quantity:")
    assert "jitter" in message and "0 < jitter" in message
    assert editor.problem() == start
    assert quantity_box(editor).property("invalid") is True


# --- the window ------------------------------------------------------------------------


def window_editor(lab: Lab) -> ProblemEditor:
    return lab.window.editor


def test_a_kernel_fallback_is_one_undo_step_and_its_note_goes_with_it(
    qtbot: QtBot, open_lab
) -> None:
    start = FAST.replace(kernel="rational-quadratic", alpha=3.0, quantity="lml-alpha")
    lab = open_lab(start, x=start.default_x)
    lab.settle(qtbot)
    editor = window_editor(lab)
    kernel = editor.findChild(QComboBox, "kernel")
    assert kernel is not None
    kernel.setCurrentIndex(kernel.findData("rbf"))
    lab.settle(qtbot)
    assert lab.model.problem == FAST.replace(quantity="mean-slope")
    assert lab.model.x == 2.0  # x again: the probe left theta
    assert editor.quantity_note() is not None  # said, and still said once applied
    lab.window.controller.undo_stack.undo()
    lab.settle(qtbot)
    assert lab.model.problem == start and lab.model.x == 3.0  # back on alpha
    assert quantity_box(editor).currentData() == "lml-alpha"
    assert editor.quantity_note() is None  # it spoke of the problem undone


def test_a_quantity_change_is_one_undo_step_and_moves_the_probe_to_theta(
    qtbot: QtBot, lab: Lab
) -> None:
    model = lab.model
    assert (model.problem, model.x) == (FAST, 2.0)
    choose(quantity_box(window_editor(lab)), "lml-lengthscale")
    lab.settle(qtbot)
    assert model.problem == LML
    assert model.x == LML.length_scale  # the probe starts at the problem's own theta
    stack = lab.window.controller.undo_stack
    assert stack.undoText() == "Change the quantity"
    stack.undo()
    lab.settle(qtbot)
    assert (model.problem, model.x) == (FAST, 2.0)
    assert quantity_box(window_editor(lab)).currentData() == "mean-slope"
    top = lab.window.plots.plot_items()[0]
    legend = [label.text for _, label in top.legend.items]
    assert "data y" in legend and any(t.startswith("negative var: ") for t in legend)
    stack.redo()
    lab.settle(qtbot)
    assert (model.problem, model.x) == (LML, 1.5)
    assert quantity_box(window_editor(lab)).currentData() == "lml-lengthscale"


def test_an_lml_quantity_draws_theta_on_a_log_axis(qtbot: QtBot, open_lab) -> None:
    lab = open_lab(LML, x=LML.default_x)
    lab.settle(qtbot)
    stack = lab.window.plots
    plots = stack.plot_items()
    assert all(plot.getAxis("bottom").logMode for plot in plots)
    assert "length scale l (log scale)" in plots[2].getAxis("bottom").labelText
    assert plots[0].titleLabel.text == "Log marginal likelihood LML(l)"
    assert plots[1].titleLabel.text == "Derivative d LML/dl"
    # Everything in view coordinates log10(theta): curves, marker, x range.
    curves = lab.model.results.curves
    assert curves is not None
    lo, hi = LML.probe_domain
    assert curves.x[0] == pytest.approx(lo) and curves.x[-1] == pytest.approx(hi)
    drawn = stack.data.curves["float64"]
    np.testing.assert_allclose(drawn.xData, np.log10(curves.x))
    np.testing.assert_array_equal(drawn.yData, curves.mu["float64"])
    assert all(float(line.value()) == math.log10(1.5) for line in markers(stack))
    x_lo, x_hi = stack.view_x_range()  # theta, drawn as log10 theta
    assert x_lo < lo < hi < x_hi
    (u_lo, u_hi), _ = stack.plot_items()[0].vb.viewRange()
    assert (u_lo, u_hi) == pytest.approx((math.log10(x_lo), math.log10(x_hi)))
    assert stack.data.points.xData is None or len(stack.data.points.xData) == 0  # no y over x
    assert markers(stack)[0].label.textItem.toPlainText() == "l = 1.5"
    legend = {label.text for _, label in plots[0].legend.items}
    assert any(text.startswith("LML float32") for text in legend)
    # No data, no variance along theta: their entries go (no empty rows).
    assert "data y" not in legend and "" not in legend
    assert not any(text.startswith("negative var") for text in legend)


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_dragging_the_marker_moves_theta(qtbot: QtBot, open_lab) -> None:
    lab = open_lab(LML, x=LML.default_x)
    lab.settle(qtbot)
    stack = lab.window.plots
    start, end = math.log10(1.5), math.log10(15.0)
    drag(stack, plot_index=1, start=start, end=end)
    lab.settle(qtbot)
    x = lab.model.x
    # Theta, not log10 theta: the marker's view coordinate converted back.
    assert x == pytest.approx(15.0, rel=0.05)
    assert all(float(line.value()) == math.log10(x) for line in markers(stack))
    report = lab.model.report
    assert report is not None and report.result.x == x
    assert lab.window.panel.x_box().text() == repr(x)
    # The probe cannot leave its span (two decades either side of l = 1.5).
    stack.plot_items()[0].setXRange(-3.0, 4.0, padding=0)
    drag(stack, plot_index=2, start=math.log10(x), end=3.5, steps=20)
    lab.settle(qtbot)
    assert lab.model.x == pytest.approx(150.0)


def test_the_x_box_edits_theta_with_its_range_on_bad_input(qtbot: QtBot, open_lab) -> None:
    lab = open_lab(LML, x=LML.default_x)
    lab.settle(qtbot)
    panel = lab.window.panel
    box: XBox = panel.x_box()
    x_label = panel.findChild(QLabel, "x_label")
    assert x_label is not None and x_label.text() == "l ="
    for text, expected in (("3", 3.0), ("l = 0.5", 0.5)):
        box.setFocus()
        box.selectAll()
        qtbot.keyClicks(box, text)
        qtbot.keyClick(box, Qt.Key.Key_Return)
        lab.settle(qtbot)
        assert lab.model.x == expected
    for bad in ("-1", "0", "abc", "1e9"):
        box.selectAll()
        qtbot.keyClicks(box, bad)
        qtbot.keyClick(box, Qt.Key.Key_Return)
        error = box.error()
        assert error is not None and "1e-06" in error and "1e+06" in error, (bad, error)
        assert lab.model.x == 0.5  # the probe stays
    # Inside the parameter's range but beyond the probe's span: clamped, and said.
    notices: list[str] = []
    lab.model.notice.connect(notices.append)
    box.selectAll()
    qtbot.keyClicks(box, "1000")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert lab.model.x == pytest.approx(150.0)
    assert notices == [
        "l = 1000 lies outside the length scale l range [0.015, 150]; the probe is at 150"
    ]


def test_the_panel_and_answer_name_the_quantity_and_its_axis(qtbot: QtBot, open_lab) -> None:
    lab = open_lab(LML, x=LML.default_x)
    lab.settle(qtbot)
    panel = lab.window.panel
    title = panel.findChild(QLabel, "title")
    assert title is not None and "d LML/dl at length scale l = 1.5" in title.text()
    assert "reference\td LML/dl = " in panel.table_text()
    panel.flush()  # the footer renders at most every interval
    answer = panel.findChild(QLabel, "answer")
    assert answer is not None and "d LML/dl at length scale l = 1.5:" in answer.text()


def test_arrow_keys_step_theta_by_a_fraction_of_a_decade(qtbot: QtBot, open_lab) -> None:
    lab = open_lab(LML, x=LML.default_x)
    lab.settle(qtbot)
    lab.window.controller.nudge(50)
    assert lab.model.x == pytest.approx(15.0)
    lab.window.controller.nudge(-100)
    assert lab.model.x == pytest.approx(0.15)


def test_a_variance_slope_plots_var_and_its_slope(qtbot: QtBot, open_lab) -> None:
    problem = FAST.replace(quantity="variance-slope")
    lab = open_lab(problem)
    lab.settle(qtbot)
    plots = lab.window.plots.plot_items()
    assert plots[0].titleLabel.text == "Posterior variance var(x)"
    assert plots[1].titleLabel.text == "Derivative d var/dx"
    assert not plots[0].getAxis("bottom").logMode
    assert lab.model.x == 2.0
    # Its y range follows var's truth, not the data y it does not draw (1..4 here).
    truth = lab.model.results.truth
    assert truth is not None
    _, (y_lo, y_hi) = plots[0].vb.viewRange()
    assert y_lo <= np.nanmedian(truth.mu) <= y_hi and y_hi - y_lo < 0.1
    assert "reference\td var/dx = " in lab.window.panel.table_text()


def test_problem_summary_names_the_quantity(qtbot: QtBot, open_lab) -> None:
    lab = open_lab(LML, x=1.5)
    lab.settle(qtbot)
    summary = lab.window.panel.findChild(QLabel, "summary")
    assert summary is not None
    # The problem once the answer under it is for this x (it follows within 150 ms).
    qtbot.waitUntil(lambda: "lml-lengthscale" in summary.text(), timeout=3000)


def test_a_session_reopens_with_its_quantity_theta_and_zoom(
    qtbot: QtBot, open_lab, tmp_path: Path
) -> None:
    lab = open_lab(LML, x=LML.default_x)
    lab.settle(qtbot)
    window = lab.window
    window.controller.nudge(10)  # a fifth of a decade up
    window.plots.set_view_x_range(0.1, 10.0)
    session = window.files.session()
    assert session.problem.quantity == "lml-lengthscale"
    assert session.x == pytest.approx(1.5 * 10**0.2) and session.x == lab.model.x
    assert session.view.x_range == pytest.approx((0.1, 10.0))  # theta, not log10 theta
    path = tmp_path / "lml.json"
    save_session(path, session)
    loaded = load_session(path)
    assert loaded == session

    other = open_lab()  # a window on the mean's slope
    other.settle(qtbot)
    other.window.files.apply_session(loaded)
    other.settle(qtbot)
    model = other.model
    assert model.problem == loaded.problem and model.x == loaded.x
    assert quantity_box(other.window.editor).currentData() == "lml-lengthscale"
    plots = other.window.plots
    assert plots.plot_items()[2].getAxis("bottom").logMode
    assert plots.view_x_range() == pytest.approx((0.1, 10.0))
    assert plots.marker_x() == loaded.x


def test_a_session_theta_outside_its_span_is_clamped_and_said(qtbot: QtBot, lab: Lab) -> None:
    notices: list[str] = []
    lab.model.notice.connect(notices.append)
    lab.window.files.apply_session(Session(LML, 500.0, View()))
    lab.settle(qtbot)
    assert lab.model.problem == LML and lab.model.x == 150.0
    assert notices[-1] == "l = 500 lies outside the new length scale l range; moved to 150"
