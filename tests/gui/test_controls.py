"""ProblemEditor: invalid values are flagged with Problem's message and never applied;
valid ones apply once; presets, the log jitter slider and set_problem never echo."""

from __future__ import annotations

from typing import TypeVar

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QComboBox, QLabel, QPushButton, QSlider, QWidget
from pytestqt.qtbot import QtBot

from gradviz.core.io.presets import Preset, load_presets
from gradviz.core.problem.spec import Problem, parse_number
from gradviz.gui.controls import (
    JITTER_POSITIONS,
    ProblemEditor,
    format_number,
    jitter_to_position,
    position_to_jitter,
)

W = TypeVar("W", bound=QWidget)
START = Problem(n=50, jitter=1e-8, solver="cholesky")


@pytest.fixture
def editor(qtbot: QtBot) -> ProblemEditor:
    widget = ProblemEditor()
    qtbot.addWidget(widget)
    widget.set_problem(START)
    return widget


def type_into(editor: ProblemEditor, qtbot: QtBot, name: str, text: str) -> None:
    edit = editor.line_edit(name)
    edit.selectAll()
    edit.del_()
    if text:
        qtbot.keyClicks(edit, text)


def press_enter(editor: ProblemEditor, qtbot: QtBot, name: str) -> None:
    qtbot.keyClick(editor.line_edit(name), Qt.Key.Key_Return)


def child(editor: ProblemEditor, kind: type[W], name: str) -> W:
    found = editor.findChild(kind, name)
    assert found is not None, name
    return found


BAD_VALUES = [
    *[("n", "n", text) for text in ["0", "1", "-5", "2.5", "abc", "", "1e9", "5001"]],
    *[("length_scale", "length_scale", text) for text in ["0", "-1", "nan", "inf", "x"]],
    ("domain_hi", "domain", "-5"),  # lo = hi
    ("domain_lo", "domain", "6"),  # lo > hi
    ("domain_lo", "domain", "nan"),
    ("domain_hi", "domain", "inf"),
    ("domain_hi", "domain", "1e7"),
    *[("seed", "seed", text) for text in ["-1", "4294967296", "1.5", "x"]],
    *[("mean", "mean", text) for text in ["nan", "inf"]],
    *[("jitter", "jitter", text) for text in ["-1e-6", "nan", "inf"]],
]


@pytest.mark.parametrize(("edit_name", "field", "text"), BAD_VALUES)
def test_bad_value_is_flagged_not_applied(
    editor: ProblemEditor, qtbot: QtBot, edit_name: str, field: str, text: str
) -> None:
    good = editor.line_edit(edit_name).text()
    type_into(editor, qtbot, edit_name, text)
    with qtbot.assertNotEmitted(editor.problem_applied):
        press_enter(editor, qtbot, edit_name)
    message = editor.field_error(field)
    assert message is not None
    assert message.startswith(f"{field}: ")
    assert editor.problem() == START
    edit = editor.line_edit(edit_name)
    assert edit.property("invalid") is True
    assert edit.toolTip() == message
    error_label = child(editor, QLabel, "error")
    assert not error_label.isHidden()
    assert message in error_label.text()
    # Other fields stay clean.
    others = {"n", "domain", "length_scale", "seed", "mean", "jitter", "solver"} - {field}
    assert all(editor.field_error(other) is None for other in others)

    # Fixing the value clears the flag and applies the problem.
    type_into(editor, qtbot, edit_name, good)
    with qtbot.waitSignal(editor.problem_applied) as blocker:
        qtbot.mouseClick(child(editor, QPushButton, "apply"), Qt.MouseButton.LeftButton)
    assert blocker.args == [START]
    assert editor.field_error(field) is None
    assert edit.property("invalid") is False
    assert error_label.isHidden()


def test_every_bad_field_is_flagged_at_once(editor: ProblemEditor, qtbot: QtBot) -> None:
    type_into(editor, qtbot, "n", "1")
    type_into(editor, qtbot, "mean", "nan")
    type_into(editor, qtbot, "domain_lo", "1e7")
    with qtbot.assertNotEmitted(editor.problem_applied):
        assert editor.apply() is False
    assert editor.field_error("n") is not None
    assert editor.field_error("mean") is not None
    assert editor.field_error("domain") is not None
    # Only the end that is out of range is flagged.
    assert editor.line_edit("domain_lo").property("invalid") is True
    assert editor.line_edit("domain_hi").property("invalid") is False
    assert editor.problem() == START


def test_lo_not_below_hi_flags_both_ends(editor: ProblemEditor, qtbot: QtBot) -> None:
    type_into(editor, qtbot, "domain_lo", "5")
    editor.apply()
    assert editor.line_edit("domain_lo").property("invalid") is True
    assert editor.line_edit("domain_hi").property("invalid") is True


def test_valid_edits_apply_once(editor: ProblemEditor, qtbot: QtBot) -> None:
    type_into(editor, qtbot, "n", "120")
    type_into(editor, qtbot, "domain_lo", "-2.5")
    type_into(editor, qtbot, "domain_hi", "3")
    type_into(editor, qtbot, "length_scale", "0.75")
    type_into(editor, qtbot, "seed", "7")
    type_into(editor, qtbot, "mean", "-1")
    type_into(editor, qtbot, "jitter", "1e-6")
    expected = Problem(
        n=120,
        domain=(-2.5, 3.0),
        length_scale=0.75,
        seed=7,
        mean=-1.0,
        jitter=1e-6,
        solver="cholesky",
    )
    with qtbot.waitSignal(editor.problem_applied) as blocker:
        press_enter(editor, qtbot, "seed")
    assert blocker.args == [expected]
    assert editor.problem() == expected
    assert child(editor, QComboBox, "presets").currentText() == "Custom"


def test_solver_choice_applies(editor: ProblemEditor, qtbot: QtBot) -> None:
    solver = child(editor, QComboBox, "solver")
    assert solver.currentText() == "cholesky"
    assert "LU" in solver.itemData(solver.findText("solve"), Qt.ItemDataRole.ToolTipRole)
    with qtbot.waitSignal(editor.problem_applied) as blocker:
        solver.setCurrentIndex(solver.findText("inverse"))
    assert blocker.args == [START.replace(solver="inverse")]


@pytest.mark.parametrize("preset", load_presets(), ids=lambda preset: preset.name)
def test_presets_apply_their_problems(editor: ProblemEditor, qtbot: QtBot, preset: Preset) -> None:
    box = child(editor, QComboBox, "presets")
    with qtbot.waitSignal(editor.problem_applied) as blocker:
        box.setCurrentIndex(box.findText(preset.name))
    assert blocker.args == [preset.problem]
    assert editor.problem() == preset.problem
    assert editor.line_edit("n").text() == str(preset.problem.n)
    assert child(editor, QComboBox, "solver").currentText() == preset.problem.solver


def test_set_problem_fills_and_emits_nothing(editor: ProblemEditor, qtbot: QtBot) -> None:
    type_into(editor, qtbot, "n", "0")
    editor.apply()
    assert editor.field_error("n") is not None
    gpflow = Problem(jitter=1e-6, solver="cholesky")
    slider = child(editor, QSlider, "jitter_slider")
    with qtbot.assertNotEmitted(editor.problem_applied):
        editor.set_problem(gpflow)
        editor.set_problem(Problem(domain=(-1.0, 2.5), mean=0.25))
        editor.set_problem(gpflow)
    assert editor.problem() == gpflow
    assert editor.field_error("n") is None
    assert child(editor, QComboBox, "presets").currentText().startswith("GPflow default")
    texts = {name: editor.line_edit(name).text() for name in ("n", "domain_lo", "jitter")}
    assert texts == {"n": "300", "domain_lo": "-5", "jitter": "1e-6"}
    assert position_to_jitter(slider.value()) == 1e-6
    editor.set_problem(Problem(n=77))
    assert child(editor, QComboBox, "presets").currentText() == "Custom"


def test_slider_ends_and_mapping() -> None:
    assert position_to_jitter(0) == 0.0
    assert position_to_jitter(1) == 1e-14
    assert position_to_jitter(JITTER_POSITIONS) == 1.0
    assert position_to_jitter(1 + 10) == 1e-13  # 10 steps per decade
    positions = range(JITTER_POSITIONS + 1)
    values = [position_to_jitter(p) for p in positions]
    assert values == sorted(set(values))  # strictly increasing
    assert [jitter_to_position(v) for v in values] == list(positions)


@pytest.mark.parametrize(
    ("jitter", "position"),
    [
        (0.0, 0),
        (1e-14, 1),
        (1e-20, 1),
        (1.0, JITTER_POSITIONS),
        (50.0, JITTER_POSITIONS),
        (1e-6, 81),
        (1.3e-6, 82),
        (1.1e-6, 81),
    ],
)
def test_jitter_to_nearest_position(jitter: float, position: int) -> None:
    assert jitter_to_position(jitter) == position


def test_slider_writes_the_field_and_applies(editor: ProblemEditor, qtbot: QtBot) -> None:
    slider = child(editor, QSlider, "jitter_slider")
    assert (slider.minimum(), slider.maximum()) == (0, JITTER_POSITIONS)
    for position, text in [(0, "0"), (1, "1e-14"), (JITTER_POSITIONS, "1"), (81, "1e-6")]:
        with qtbot.waitSignal(editor.problem_applied) as blocker:
            slider.setValue(position)
        assert editor.line_edit("jitter").text() == text
        assert blocker.args[0].jitter == float(text)


def test_typed_jitter_moves_the_slider_without_echo(editor: ProblemEditor, qtbot: QtBot) -> None:
    slider = child(editor, QSlider, "jitter_slider")
    with (
        qtbot.assertNotEmitted(editor.problem_applied),
        qtbot.assertNotEmitted(slider.valueChanged),
    ):
        type_into(editor, qtbot, "jitter", "1.3e-6")
    assert slider.value() == 82
    assert editor.line_edit("jitter").text() == "1.3e-6"  # the field keeps what was typed
    with qtbot.assertNotEmitted(editor.problem_applied):
        type_into(editor, qtbot, "jitter", "0")
    assert slider.value() == 0
    type_into(editor, qtbot, "jitter", "abc")  # not a number: the slider stays put
    assert slider.value() == 0
    with qtbot.waitSignal(editor.problem_applied) as blocker:
        type_into(editor, qtbot, "jitter", "3e-9")
        press_enter(editor, qtbot, "jitter")
    assert blocker.args[0].jitter == 3e-9
    assert slider.value() == jitter_to_position(3e-9)


@pytest.mark.parametrize(
    ("text", "value"),
    [("300", 300), (" -5 ", -5), ("+7", 7), ("2.5", 2.5), ("1e9", 1e9), ("abc", "abc"), ("", "")],
)
def testparse_number(text: str, value: object) -> None:
    parsed = parse_number(text)
    assert parsed == value
    assert type(parsed) is type(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (300, "300"),
        (-5.0, "-5"),
        (1.5, "1.5"),
        (1e-6, "1e-6"),
        (1.26e-6, "1.26e-6"),
        (1e20, "1e20"),
    ],
)
def test_format_number_round_trips(value: float, text: str) -> None:
    assert format_number(value) == text
    assert float(parse_number(text)) == value


def test_an_edit_not_applied_yet_is_marked_pending_until_applied(
    editor: ProblemEditor, qtbot: QtBot
) -> None:
    pending = editor.findChild(QLabel, "pending")
    assert pending is not None and not editor.is_pending()
    field = editor.line_edit("length_scale")
    qtbot.keyClicks(field, "5")  # "1.5" -> "1.55", not applied
    assert editor.is_pending() and field.property("pending")
    assert not pending.isHidden() and "not applied yet" in pending.text()
    with qtbot.waitSignal(editor.problem_applied):
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert not editor.is_pending() and not field.property("pending") and pending.isHidden()
    field.setText("")
    qtbot.keyClicks(field, "-1")  # invalid: flagged, and still pending (not applied)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert editor.field_error("length_scale") and editor.is_pending()
    editor.set_problem(START)  # e.g. undo: the form shows the applied problem again
    assert not editor.is_pending() and editor.field_error("length_scale") is None


def test_the_jitter_slider_held_down_is_pending_and_applies_on_release(
    editor: ProblemEditor, qtbot: QtBot
) -> None:
    slider = editor.findChild(QSlider, "jitter_slider")
    slider.setSliderDown(True)
    slider.setValue(slider.value() + 10)
    assert editor.is_pending() and editor.line_edit("jitter").property("pending")
    with qtbot.waitSignal(editor.problem_applied):
        slider.setSliderDown(False)  # emits sliderReleased, as letting go does
    assert not editor.is_pending() and editor.problem().jitter > 0
