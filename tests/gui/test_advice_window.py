"""The measured advice in the window, over recorded workers: asked for once the panel is
complete and the probe rests, "measuring..." until it arrives, never shown for another
(problem, x), its advised configuration a link that applies it as one Undo step, and
File > Copy as / Save as script once it is in."""

from __future__ import annotations

import ast

from conftest import FAST, Lab
from fake_workers import RecordedSweeps
from PyQt6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from gradviz.core.analysis.advice import advice_from
from gradviz.core.problem.spec import DEFAULT_X
from gradviz.gui.panel_footer import ADVISED_LINK
from gradviz.worker.messages import SweepNote

ADVICE_WAIT_MS = 3000


def answer(lab: Lab) -> str:
    lab.window.panel.flush()
    label = lab.window.panel.findChild(QLabel, "answer")
    assert label is not None
    return label.text()


def advice_asked(sweeps: RecordedSweeps) -> list[tuple[object, float]]:
    asked = sweeps.asked
    return [key for key, full in zip(asked.submitted, asked.full, strict=True) if not full]


def test_the_advice_is_measured_after_the_panel_and_replaces_measuring(
    qtbot: QtBot, lab: Lab
) -> None:
    assert "What to change: measuring..." in answer(lab)
    qtbot.waitUntil(lambda: advice_asked(lab.sweeps) == [(FAST, DEFAULT_X)], timeout=3000)
    assert lab.model.advice.phase == "measuring"
    assert lab.sweeps.isRunning()  # started only now, after the first complete panel
    lab.sweeps.answer()
    assert lab.model.advice.phase == "done"
    text = answer(lab)
    assert "measuring" not in text
    assert lab.model.advice.advice is not None
    assert lab.model.advice.advice.cause.text.split(":")[0] in text


def test_a_late_advice_for_another_x_is_never_shown_as_current(qtbot: QtBot, lab: Lab) -> None:
    qtbot.waitUntil(lambda: lab.sweeps.current is not None, timeout=3000)
    lab.window.controller.nudge(5)
    lab.settle(qtbot)
    lab.sweeps.answer()  # the advice of x = 2, which is no longer shown
    assert lab.model.advice.phase in ("waiting", "measuring")
    assert "What to change: measuring..." in answer(lab)
    qtbot.waitUntil(lambda: lab.sweeps.current == (FAST, lab.model.x), timeout=3000)
    lab.sweeps.answer()
    assert lab.model.advice.advice is not None and lab.model.advice.advice.x == lab.model.x


def test_no_advice_is_asked_for_during_a_drag(qtbot: QtBot, lab: Lab) -> None:
    controller = lab.window.controller
    controller.set_dragging(True)
    controller.nudge(3)
    lab.settle(qtbot)
    qtbot.wait(800)
    assert advice_asked(lab.sweeps) == []
    controller.set_dragging(False)
    qtbot.waitUntil(lambda: advice_asked(lab.sweeps) == [(FAST, lab.model.x)], timeout=3000)


def test_a_failed_advice_says_why(qtbot: QtBot, lab: Lab) -> None:
    qtbot.waitUntil(lambda: lab.sweeps.current is not None, timeout=3000)
    why = "the sweep process failed 3 times in a row; retrying in 5 s"
    note = SweepNote(FAST, DEFAULT_X, "waiting", why, retry=True, advice_only=True)
    lab.sweeps.note.emit(note)
    assert lab.model.advice.phase == "failed"
    assert f"What to change: not measured ({why})." in answer(lab)
    assert lab.window.sweeps.status.toolTip() != why  # the Sweeps tab has nothing to say


def test_clicking_the_advised_configuration_applies_it_as_one_undo_step(
    qtbot: QtBot, lab: Lab
) -> None:
    qtbot.waitUntil(lambda: lab.sweeps.current is not None, timeout=3000)
    lab.sweeps.answer()
    advice = lab.model.advice.advice
    assert advice is not None
    advised = advice.advised["float64"]
    assert advised is not None and advice.changes("float64")
    text = answer(lab)
    assert f"href='{ADVISED_LINK}" in text
    label = lab.window.panel.findChild(QLabel, "answer")
    links = [word.split("'")[0] for word in text.split(f"href='{ADVISED_LINK}")[1:]]
    stack = lab.window.controller.undo_stack
    before = stack.count()
    for index in links:
        found = advice_from_link(lab, int(index))
        if found == (advised.solver, advised.jitter):
            label.linkActivated.emit(f"{ADVISED_LINK}{index}")
            break
    else:
        raise AssertionError(f"no link for the float64 advice in {text!r}")
    problem = lab.model.problem
    assert (problem.solver, problem.jitter) == (advised.solver, advised.jitter)
    assert stack.count() == before + 1
    stack.undo()
    assert lab.model.problem == FAST


def advice_from_link(lab: Lab, index: int) -> tuple[str, float]:
    from gradviz.gui.panel_text import advised_points

    return list(advised_points(lab.model.advice).values())[index]


def test_copy_as_script_waits_for_the_advice_then_copies_a_program(qtbot: QtBot, lab: Lab) -> None:
    files = lab.window.files
    notices: list[str] = []
    lab.model.notice.connect(notices.append)
    files.copy_script()
    assert notices[-1].startswith("No script yet")
    qtbot.waitUntil(lambda: lab.sweeps.current is not None, timeout=3000)
    lab.sweeps.answer()
    files.copy_script()
    program = QApplication.clipboard().text()
    tree = ast.parse(program)
    assert "as_written" in program and "ADVISED = {" in program
    data = lab.model.results.data
    assert data is not None
    assert all(value.hex() in program for value in data.y.tolist())
    assert isinstance(tree, ast.Module) and notices[-1].startswith("Copied the problem as a script")


def test_the_advice_from_the_sweeps_tab_is_the_sweeps(qtbot: QtBot, lab: Lab) -> None:
    """With the Sweeps tab shown, the advice is read from its (whole) sweep: no second
    request measures it."""
    window, sweeps = lab.window, lab.sweeps
    window.tabs.setCurrentWidget(window.sweeps)
    qtbot.waitUntil(lambda: sweeps.current is not None and sweeps.full, timeout=3000)
    # An advice request may have left before the tab was shown (the panel completed first,
    # and on a loaded machine its 400 ms wait can end before the click): the whole sweep
    # supersedes it, and nothing asks again.
    asked = len(advice_asked(sweeps))
    qtbot.wait(600)
    assert len(advice_asked(sweeps)) == asked and sweeps.full
    sweeps.answer()
    final = lab.model.sweep.jitter
    assert final is not None
    assert lab.model.advice.advice == advice_from(final, FAST.solver, FAST.jitter)
