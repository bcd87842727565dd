"""ResultsPanel: every number of a ProbeReport appears with the digits that matter (every
digit in its tooltip and in Copy, as format_value prints it), its correct digits in the
text colour and the wrong ones muted, and nothing more.

The records are built here from numbers a real probe produced (TensorFlow 2.21,
x = 2.0), so the panel is tested on realistic texts without importing TensorFlow.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QImage, QKeySequence, QPalette, QTextDocument
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QCheckBox, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from gradviz.core.analysis.diagnosis import Conditioning, diagnose
from gradviz.core.analysis.headline import headline
from gradviz.core.io.report import format_value, split_correct_digits, verdict_line
from gradviz.core.numerics.results import (
    DTYPES,
    PATH_SPECS,
    PATHS,
    Ball,
    Cell,
    FailureKind,
    Limit,
    ProbeReport,
    ProbeResult,
    Reference,
    Spread,
)
from gradviz.core.problem.spec import Problem
from gradviz.gui import style
from gradviz.gui.model import WindowModel
from gradviz.gui.panel import ResultsPanel
from gradviz.gui.panel_footer import FOOTER_INTERVAL_MS
from gradviz.gui.panel_text import FAILURE_WORDS, TSV_HEADER, seed_print, spread_text

SHORT_ERROR_CHARS = 24

CHOLESKY_F32 = (
    "Cholesky failed in float32: K + jitter I is not positive definite at this precision "
    "(NaN in the factor)"
)
NON_FINITE_F64 = "non-finite result in float64 (mu = nan, d mu/dx = nan)"
H = {"float32": 0.009843133389949799, "float64": 1.2110908904786679e-05}

# (mu, grad) per path for n = 40, jitter 1e-6, cholesky at x = 2.0.
WELL = {
    "float32": [
        (1.9641609191894531, -0.6999607086181641),
        (1.9641609191894531, -0.6999607086181641),
        (1.9641551971435547, -0.6999530792236328),
        (1.9641609191894531, -0.6999549865722656),
        (1.9641609191894531, -0.6999524235725403),
        (1.9641342163085938, -0.6999664306640625),
        (1.9641342163085938, -0.6999136209487915),
    ],
    "float64": [
        (1.9641469282170956, -0.6999544453493307),
        (1.9641469282170956, -0.6999544453493307),
        (1.9641469282171204, -0.6999544453493236),
        (1.9641469282170956, -0.6999544453493236),
        (1.9641469282170956, -0.6999544453493076),
        (1.9641469282171187, -0.69995444534932),
        (1.9641469282171187, -0.6999544437992293),
    ],
}
# The seed problem (jitter 0, inverse) at x = 2.0: every path disagrees.
SEED = {
    "float32": [
        (-83.70800018310547, -113.925048828125),
        (-83.70800018310547, -113.925048828125),
        (28.683622360229492, 22.4522705078125),
        (-83.70800018310547, -113.925048828125),
        (-42.4260368347168, -7.654590606689453),
        (28.68361473083496, -0.48533153533935547),
        (28.68361473083496, -2550.36474609375),
    ],
    "float64": [
        (3.8853463956919794, 19.5),
        (3.8853463956919794, 19.5),
        (2.236404566662646, 3.98828125),
        (3.8853463956919794, 19.5),
        (12.400183200226799, 38.547025870450604),
        (-2.0903801037343497, 15.100858852382874),
        (-2.0903801037343497, -1091228.7758043036),
    ],
}


def make_cells(values: dict[str, list[tuple[float, float]]], x: float) -> tuple[Cell, ...]:
    cells = []
    for dtype in DTYPES:
        for path, (mu, grad) in zip(PATHS, values[dtype], strict=True):
            extra = {"x": x} if path == "seed_optimizer" else {}
            if path == "central_difference":
                extra = {"h": H[dtype]}
            cells.append(Cell(path, dtype, mu, grad, extra=extra))
    return tuple(cells)


def make_report(
    problem: Problem,
    cells: tuple[Cell, ...],
    reference: Reference | None,
    cond: Conditioning | None,
    *,
    x: float = 2.0,
    note: str = "",
) -> ProbeReport:
    result = ProbeResult(problem, x, cells)
    return ProbeReport(result, reference, note, diagnose(result, reference, cond))


def well_report() -> ProbeReport:
    problem = Problem(n=40, jitter=1e-6, solver="cholesky")
    reference = Reference(
        "exact",
        mu=Ball(1.9641469282171118, 9.830146727525444e-17),
        grad=Ball(-0.6999544453493444, 1.5340536619841448e-17),
        precision_bits=128,
    )
    cond = Conditioning(13578712.888995223, saturated=False, lambda_max=14.9)
    return make_report(problem, make_cells(WELL, 2.0), reference, cond)


def failing_report() -> ProbeReport:
    """float32 Cholesky fails everywhere; one float64 cell is non-finite."""
    report = well_report()
    cells = tuple(
        Cell(c.path, c.dtype, None, None, CHOLESKY_F32, FailureKind.CHOLESKY_NOT_PD)
        if c.dtype == "float32"
        else Cell(c.path, c.dtype, None, None, NON_FINITE_F64, FailureKind.NON_FINITE)
        if c.path == "forward"
        else c
        for c in report.result.cells
    )
    cond = Conditioning(13578712.888995223, saturated=False, lambda_max=14.9)
    return make_report(report.result.problem, cells, report.reference, cond)


def seed_report() -> ProbeReport:
    reference = Reference(
        "undetermined",
        reason="K is singular to 512-bit ball arithmetic (cannot certify the solve)",
        limit=Limit(
            1e-12,
            Ball(2.6111015515778577, 1.778482416435377e-16),
            Ball(-0.7293005800319275, 5.2488325955827004e-17),
        ),
    )
    cond = Conditioning(1.2505600344485791e20, saturated=True, lambda_max=112.8)
    return make_report(Problem(), make_cells(SEED, 2.0), reference, cond)


def pending_reference_report() -> ProbeReport:
    report = well_report()
    return make_report(
        report.result.problem,
        report.result.cells,
        None,
        None,
        note="reference: computing (256 bits)…",
    )


# --- helpers reading what the panel shows ---------------------------------------------


@pytest.fixture
def panel(qtbot: QtBot) -> ResultsPanel:
    """A panel over a model of the default problem at x = 2 with no results yet."""
    widget = ResultsPanel(WindowModel(Problem(), 2.0, stale_after_ms=0))
    qtbot.addWidget(widget)
    widget.resize(760, 480)
    return widget


def show(panel: ResultsPanel, report: ProbeReport) -> None:
    """``report`` arrives for the panel's model, which moved to its problem and x."""
    model, result = panel.model, report.result
    if result.problem != model.problem:
        model.set_problem(result.problem, result.x)
    else:
        model.move_probe(result.x)
    model.receive_report(report)


def pending(panel: ResultsPanel, x: float) -> None:
    """The probe moved to ``x`` and its report is overdue: the panel shows it stale."""
    panel.model.move_probe(x)
    QTest.qWait(10)  # the model's staleness timer (0 ms here)
    assert panel.model.stale


def label(panel: ResultsPanel, name: str) -> QLabel:
    """A label of the panel as it reads once the footer's interval has passed."""
    panel.flush()
    found = panel.findChild(QLabel, name)
    assert found is not None, name
    return found


def plain(rich: str) -> str:
    document = QTextDocument()
    document.setHtml(rich)
    return document.toPlainText().replace("\xa0", " ")


def lines(panel: ResultsPanel, path: str, dtype: str) -> list[str]:
    return [line.strip() for line in plain(label(panel, f"cell_{path}_{dtype}").text()).split("\n")]


def words(cell: QLabel) -> str:
    """A cell's text as words (a failure's words may break over two lines)."""
    return " ".join(plain(cell.text()).split())


def count(panel: ResultsPanel, path: str, dtype: str) -> str:
    """The count of correct digits, the line under a cell's value."""
    return lines(panel, path, dtype)[1]


def printed(panel: ResultsPanel, path: str, dtype: str) -> str:
    """The seed's "(grad, x)" print as the cell shows it (over three lines), joined."""
    shown = lines(panel, path, dtype)
    starts = [i for i, line in enumerate(shown) if line == "prints"]
    return " ".join(shown[starts[0] : starts[0] + 3]) if starts else ""


def fragments(rich: str) -> list[tuple[str, QColor | None]]:
    """(text, explicit foreground colour or None) of every run of the rich text."""
    document = QTextDocument()
    document.setHtml(rich)
    runs = []
    block = document.begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            brush = fragment.charFormat().foreground()
            colour = brush.color() if brush.style() != Qt.BrushStyle.NoBrush else None
            runs.append((fragment.text().replace("\xa0", "").strip("\u2028"), colour))
            iterator += 1
        block = block.next()
    return runs


def is_muted(colour: QColor | None) -> bool:
    """Between the text colour and the window colour, clearly apart from the text."""
    if colour is None:
        return False
    palette = QApplication.palette()
    text = palette.color(QPalette.ColorRole.WindowText).lightness()
    window = palette.color(QPalette.ColorRole.Window).lightness()
    return abs(colour.lightness() - text) >= 0.25 * abs(window - text)


# --- tests --------------------------------------------------------------------------------


def test_placeholders_until_a_report_arrives(panel: ResultsPanel) -> None:
    panel.model.set_problem(Problem(n=11, domain=(0.0, 1.0)), panel.model.x)
    assert panel.x_box().text() == "1.0"  # x = 2 clamped into the new domain
    for path in PATHS:
        for dtype in DTYPES:
            assert lines(panel, f"{path}", dtype) == ["…"]
    assert [row[1:] for row in csv.reader(io.StringIO(panel.table_text()), delimiter="\t")][1:] == [
        [""] * 6
    ] * len(PATHS)


def compact(value: float, dtype: str, digits: float | None) -> str:
    """The contract for a cell: the significant digits that matter. float32: 7; float64:
    two past the correct ones, 7..12 (7 when unknown). Every digit is in the tooltip."""
    if dtype == "float32":
        return f"{value:.7g}"
    shown = 7 if digits is None else min(12, max(7, math.floor(digits) + 2))
    return f"{value:.{shown}g}"


def test_every_cell_shows_its_numbers(panel: ResultsPanel) -> None:
    report = well_report()
    show(panel, report)
    assert "Gradients at x = 2.0" in plain(label(panel, "title").text())
    for cell in report.result.cells:
        digits = report.diagnosis.correct_digits[(cell.path, cell.dtype)]
        shown = lines(panel, cell.path, cell.dtype)
        assert shown[0] == compact(cell.grad, cell.dtype, digits)
        assert shown[1] == f"{math.floor(digits)} ok"
        assert shown[2] == f"mu = {compact(cell.mu, cell.dtype, digits)}"
        tooltip = label(panel, f"cell_{cell.path}_{cell.dtype}").toolTip()
        assert f"d mu/dx = {format_value(cell.grad, cell.dtype)}" in tooltip
        assert f"{digits:.1f} correct significant digits against the reference" in tooltip


def test_numbers_align_on_the_decimal_point(panel: ResultsPanel) -> None:
    show(panel, seed_report())
    for dtype in DTYPES:
        firsts = [
            plain(label(panel, f"cell_{path}_{dtype}").text()).split("\n")[0] for path in PATHS
        ]
        # where the integer part ends: the point, the exponent or the end of the number
        ends = {len(re.match(r"\s*-?\d*", text).group(0)) for text in firsts}
        assert len(ends) == 1, (dtype, firsts)


def test_correct_digits_normal_wrong_digits_muted(panel: ResultsPanel) -> None:
    report = well_report()
    show(panel, report)
    checked = 0
    for cell in report.result.cells:
        digits = report.diagnosis.correct_digits[(cell.path, cell.dtype)]
        good, bad = split_correct_digits(compact(cell.grad, cell.dtype, digits), digits)
        assert good
        runs = fragments(label(panel, f"cell_{cell.path}_{cell.dtype}").text())
        good_runs = [c for text, c in runs if text == good]
        assert good_runs and not is_muted(good_runs[0]), (cell, runs)
        if bad:  # float32 cells may show only correct digits
            bad_runs = [c for text, c in runs if text == bad]
            assert bad_runs and is_muted(bad_runs[0]), (cell, runs)
            checked += 1
    assert checked >= len(PATHS)


def test_unknown_digits_show_the_whole_number_normally(panel: ResultsPanel) -> None:
    seed = seed_report()
    assert seed.reference is not None
    bare = dataclasses.replace(seed.reference, limit=None)  # nothing to count against
    report = make_report(Problem(), seed.result.cells, bare, None)
    show(panel, report)
    for cell in report.result.cells:
        assert report.diagnosis.correct_digits[(cell.path, cell.dtype)] is None
        text = compact(cell.grad, cell.dtype, None)
        runs = fragments(label(panel, f"cell_{cell.path}_{cell.dtype}").text())
        assert any(t == text and not is_muted(c) for t, c in runs), runs


def test_error_cells_show_short_words_and_the_reason(panel: ResultsPanel) -> None:
    show(panel, failing_report())
    for path in PATHS:
        cell = label(panel, f"cell_{path}_float32")
        assert words(cell) == "Cholesky failed"
        assert html.escape(CHOLESKY_F32) in cell.toolTip()
        colours = [c for text, c in fragments(cell.text()) if text]
        assert colours == [QColor(style.ERROR_COLOR)]
    forward = label(panel, "cell_forward_float64")
    assert words(forward) == "NaN or Inf"  # no count under the words
    assert html.escape(NON_FINITE_F64) in forward.toolTip()


def test_every_failure_kind_has_a_few_words() -> None:
    assert set(FAILURE_WORDS) == set(FailureKind)
    assert all(0 < len(words) <= SHORT_ERROR_CHARS for words in FAILURE_WORDS.values())


@pytest.mark.parametrize("kind", list(FailureKind))
def test_a_failed_cell_shows_the_words_of_its_kind(panel: ResultsPanel, kind: FailureKind) -> None:
    report = well_report()
    reason = "TensorFlow's own detail: not parsed"
    cells = tuple(
        Cell(c.path, c.dtype, None, None, reason, kind) if c.path == "tape" else c
        for c in report.result.cells
    )
    show(panel, make_report(report.result.problem, cells, report.reference, None))
    for dtype in DTYPES:
        cell = label(panel, f"cell_tape_{dtype}")
        assert words(cell) == FAILURE_WORDS[kind]
        assert html.escape(reason) in cell.toolTip()


def test_seed_optimizer_prints_its_tuple(panel: ResultsPanel) -> None:
    show(panel, seed_report())
    assert printed(panel, "seed_optimizer", "float32") == "prints (-113.92505, 2.0)"
    assert printed(panel, "seed_optimizer", "float64") == "prints (19.5, 2.0)"
    assert not any("prints" in line for line in lines(panel, "tape", "float32"))
    assert seed_print(-0.6999607086181641, "float32") == "-0.6999607"


def test_tooltips_explain_paths_and_the_difference_step(panel: ResultsPanel) -> None:
    show(panel, well_report())
    for spec in PATH_SPECS:
        row = label(panel, f"row_{spec.name}")
        assert plain(row.text()) == spec.label
        assert html.escape(spec.help) in row.toolTip()
    for dtype in DTYPES:
        tip = label(panel, f"cell_central_difference_{dtype}").toolTip()
        assert f"h = {H[dtype]:.6g}" in tip


def test_show_mu_toggle_hides_the_mu_lines(panel: ResultsPanel, qtbot: QtBot) -> None:
    show(panel, well_report())
    toggle = panel.findChild(QCheckBox, "show_mu")
    assert toggle.isChecked()
    toggle.click()
    assert not toggle.isChecked()
    for path in PATHS:
        for dtype in DTYPES:
            assert not any(line.startswith("mu =") for line in lines(panel, path, dtype))
    assert printed(panel, "seed_optimizer", "float32") == "prints (-0.6999607, 2.0)"
    toggle.click()
    assert lines(panel, "tape", "float64")[2].startswith("mu = ")


def test_set_x_and_show_report_do_not_emit(panel: ResultsPanel, qtbot: QtBot) -> None:
    with qtbot.assertNotEmitted(panel.x_requested):
        panel.model.move_probe(-1.5)
        show(panel, well_report())
        pending(panel, 3.0)
        panel.model.set_problem(Problem(n=50), panel.model.x)
    panel.model.move_probe(-1.5)
    assert panel.x_box().text() == "-1.5"


def test_pending_marks_old_numbers_stale(panel: ResultsPanel) -> None:
    report = well_report()
    show(panel, report)
    pending(panel, 2.5)
    assert "computing at x = 2.5" in plain(label(panel, "title").text()).lower()
    assert panel.x_box().text() == "2.5"
    cell = label(panel, "cell_tape_float64")
    digits = report.diagnosis.correct_digits[("tape", "float64")]
    grad = report.result.cell("tape", "float64").grad
    assert lines(panel, "tape", "float64")[0] == compact(grad, "float64", digits)
    assert "<i>" in cell.text()
    assert all(is_muted(c) for text, c in fragments(cell.text()) if text.strip())
    show(panel, report)
    assert "<i>" not in cell.text()
    assert "Gradients at x = 2.0" in plain(label(panel, "title").text())


def test_reference_condition_digits_and_verdicts(panel: ResultsPanel) -> None:
    report = well_report()
    show(panel, report)
    reference = plain(label(panel, "reference").text())
    assert "reference d mu/dx = -0.69995444534934437 +/- 1.5e-17" in reference
    assert "128-bit ball arithmetic" in reference
    assert plain(label(panel, "condition").text()) == "cond(K + jitter I) ~ 1.4e7"
    carried = plain(label(panel, "carried").text())
    assert "float32 6.9" in carried
    assert "float64 15.7" in carried
    for dtype in DTYPES:
        verdict = label(panel, f"verdict_{dtype}")
        assert plain(verdict.text()) == verdict_line(report.diagnosis.verdicts[dtype])
        assert verdict.wordWrap()
        assert QColor(style.DTYPE_COLORS[dtype]) in [c for _, c in fragments(verdict.text())]


def test_undetermined_reference_shows_its_limit(panel: ResultsPanel) -> None:
    show(panel, seed_report())
    reference = plain(label(panel, "reference").text())
    assert "undetermined: K is singular to 512-bit ball arithmetic" in reference
    assert "its jitter 1e-12 limit: d mu/dx = -0.72930058003192755" in reference
    assert "rounding floor" in plain(label(panel, "condition").text())


def test_seed_cells_count_digits_against_the_jitter_limit(panel: ResultsPanel) -> None:
    report = seed_report()
    show(panel, report)
    assert report.diagnosis.digits_against == "limit"
    for cell in report.result.cells:
        digits = report.diagnosis.correct_digits[(cell.path, cell.dtype)]
        assert digits is not None  # counted against the limit, never "-"
        assert count(panel, cell.path, cell.dtype).split() == [
            str(math.floor(digits)), "ok", "vs", "limit"
        ]  # fmt: skip
        assert "against the jitter 1e-12 limit (the exact answer is undetermined)" in (
            label(panel, f"cell_{cell.path}_{cell.dtype}").toolTip()
        )
    rows = dict(row[:2] for row in csv.reader(io.StringIO(panel.table_text()), delimiter="\t"))
    assert rows["digits against"].startswith("the jitter 1e-12 limit")
    show(panel, well_report())  # an exact reference: plain counts
    assert count(panel, "tape", "float64").split()[1:] == ["ok"]


def test_pending_reference_shows_the_note(panel: ResultsPanel) -> None:
    show(panel, pending_reference_report())
    assert "reference: computing (256 bits)…" in plain(label(panel, "reference").text())
    assert plain(label(panel, "condition").text()) == "cond(K + jitter I): computing"
    # No reference, no digits: the numbers stay whole and their count is a dash.
    assert count(panel, "tape", "float32") == "\N{EN DASH}"


def test_table_text_is_tsv(panel: ResultsPanel) -> None:
    report = failing_report()
    show(panel, report)
    rows = list(csv.reader(io.StringIO(panel.table_text()), delimiter="\t"))
    assert tuple(rows[0]) == TSV_HEADER
    assert [row[0] for row in rows[1:8]] == list(PATHS)
    for row in rows[1:8]:
        assert len(row) == 7
        path = row[0]
        assert row[1] == f"error: {CHOLESKY_F32}"
        assert row[2] == ""
        f64 = report.result.cell(path, "float64")
        if f64.error:
            assert row[3] == f"error: {NON_FINITE_F64}"
            assert row[6] == ""
        else:
            assert row[3] == format_value(f64.grad, "float64")
            assert float(row[4]) == pytest.approx(
                report.diagnosis.correct_digits[(path, "float64")], abs=0.05
            )
            assert row[6] == format_value(f64.mu, "float64")
    labels = [row[0] for row in rows[8:]]
    assert labels[:9] == [
        "reference",
        "cond(K + jitter I)",
        "digits carried",
        "digits against",
        "spread float32",
        "spread float64",
        "verdict float32",
        "verdict float64",
        "answer",
    ]
    assert rows[11][1] == "the reference"
    answer = rows[16][1]
    assert answer.startswith("The seed's two calls") and "give no number in float32" in answer
    assert rows[8][1].startswith("d mu/dx = -0.69995444534934437 +/- 1.5e-17")


def test_copy_puts_the_table_on_the_clipboard(panel: ResultsPanel, qtbot: QtBot) -> None:
    show(panel, well_report())
    clipboard = QApplication.clipboard()
    clipboard.clear()
    qtbot.mouseClick(panel.findChild(QPushButton, "copy"), Qt.MouseButton.LeftButton)
    assert clipboard.text() == panel.table_text()
    shortcuts = [action.shortcut() for action in panel.actions()]
    assert QKeySequence(QKeySequence.StandardKey.Copy) in shortcuts
    clipboard.clear()
    next(a for a in panel.actions() if a.shortcut() == shortcuts[0]).trigger()
    assert clipboard.text() == panel.table_text()


def test_rendered_panel_is_not_blank(panel: ResultsPanel, qtbot: QtBot, tmp_path: Path) -> None:
    show(panel, failing_report())
    panel.resize(panel.sizeHint().expandedTo(panel.size()))
    with qtbot.waitExposed(panel):
        panel.show()
    pixmap = panel.grab()
    assert pixmap.save(str(tmp_path / "panel.png"))
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert image.width() > 400 and image.height() > 300
    step = 3
    colours = {
        image.pixel(x, y)
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    }
    assert len(colours) > 20  # text, stripes, dtype colours, the error colour: not a blank fill


def test_ctrl_c_copies_the_table(panel: ResultsPanel, qtbot: QtBot) -> None:
    show(panel, seed_report())
    with qtbot.waitExposed(panel):
        panel.show()
    cell = label(panel, "cell_tape_float64")
    qtbot.mouseClick(cell, Qt.MouseButton.LeftButton)  # focus inside the panel, no selection
    clipboard = QApplication.clipboard()
    clipboard.clear()
    qtbot.keyClick(cell, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == panel.table_text()
    assert "its jitter 1e-12 limit" in clipboard.text()


@pytest.mark.parametrize("reference", ["exact", "undetermined", None])
def test_shared_records_render(
    panel: ResultsPanel, report_factory: Callable[..., ProbeReport], reference: str | None
) -> None:
    """The conftest's numpy-made records (another author's builder) render completely."""
    failed = {
        ("tape", "float32"): (FailureKind.SINGULAR_INVERSE, "Input matrix is not invertible.")
    }
    report = report_factory(Problem(n=40, jitter=1e-6, solver="cholesky"), 1.5, reference, failed)
    show(panel, report)
    for cell in report.result.cells:
        shown = lines(panel, cell.path, cell.dtype)
        digits = report.diagnosis.correct_digits[(cell.path, cell.dtype)]
        expected = "singular K" if cell.error else compact(cell.grad, cell.dtype, digits)
        assert shown[0] == expected
    rows = list(csv.reader(io.StringIO(panel.table_text()), delimiter="\t"))
    assert rows[3][1] == "error: Input matrix is not invertible."
    assert "Gradients at x = 1.5" in plain(label(panel, "title").text())


def test_the_answer_and_the_spread_of_each_dtype_are_shown_in_words(
    panel: ResultsPanel, report_factory: Callable[..., ProbeReport]
) -> None:
    report = report_factory(Problem(n=40, jitter=1e-6, solver="cholesky"))
    noisy = Spread(16, -505.4, 101.9, -200.0, 150.0, 0.0)
    tight = Spread(16, -0.7, -0.7, -0.7, 0.0, 17.0)
    result = dataclasses.replace(report.result, spread={"float32": noisy, "float64": tight})
    show(panel, dataclasses.replace(report, result=result))
    answer = label(panel, "answer")
    assert answer is not None and answer.text().startswith("The seed&#x27;s two calls")
    assert "Guide" in answer.toolTip()
    f32 = plain(label(panel, "spread_float32").text())
    assert (
        f32 == "float32: equivalent programs print anything from -505.4 to 101.9 "
        "(about 0 significant digits)"
    )
    f64 = plain(label(panel, "spread_float64").text())
    assert f64 == "float64: all 16 perturbed copies print -0.7"
    show(panel, report)  # no spread (a drag's probe): said so, not left blank
    assert "once the probe stops" in plain(label(panel, "spread_float32").text())
    assert "spread not computed" in spread_text({}, "float32", 1001)  # never above n = 1000


def test_copy_confirms_and_a_single_cell_copies_every_digit(
    panel: ResultsPanel, qtbot: QtBot
) -> None:
    report = well_report()
    show(panel, report)
    with qtbot.waitSignal(panel.copied) as table:
        panel.copy_table()
    assert table.args[0].startswith("Copied the results table (")
    rows = dict(line.split("\t", 1) for line in QApplication.clipboard().text().splitlines())
    problem = report.result.problem
    for field in ("seed = 100", "domain = [-5.0, 5.0]", "mean = 1.0", f"n = {problem.n}"):
        assert field in rows["problem"]
    cell = label(panel, "cell_tape_float64")
    [action] = cell.actions()
    with qtbot.waitSignal(panel.copied) as one:
        action.trigger()
    expected = format_value(report.result.cell("tape", "float64").grad, "float64")
    assert QApplication.clipboard().text() == expected
    assert one.args[0] == f"Copied tape float64: {expected}"


def test_a_long_x_never_widens_the_panel(panel: ResultsPanel) -> None:
    """A dragged x has 17 digits; its title and the seed's print wrap instead of widening
    the side column (which would move the splitter on its own)."""
    report = seed_report()
    show(panel, report)
    width = panel.minimumSizeHint().width()
    x = 1.0044950708191074
    cells = tuple(
        dataclasses.replace(cell, extra={"x": x}) if cell.path == "seed_optimizer" else cell
        for cell in report.result.cells
    )
    result = dataclasses.replace(report.result, x=x, cells=cells)
    show(panel, dataclasses.replace(report, result=result))
    pending(panel, -4.983266533110368)
    assert panel.minimumSizeHint().width() <= width
    assert printed(panel, "seed_optimizer", "float64") == f"prints (19.5, {x!r})"


def test_a_drag_of_reports_updates_the_footer_at_most_every_interval(
    panel: ResultsPanel, qtbot: QtBot, report_factory: Callable[..., ProbeReport]
) -> None:
    """The cells follow every report; the wrapped footer (a relayout each) follows within
    FOOTER_INTERVAL_MS and ends on the last report."""
    problem = Problem(n=40, jitter=1e-6, solver="cholesky")
    reports = [report_factory(problem, x) for x in (1.0, 1.1, 1.2)]
    answer = panel.findChild(QLabel, "answer")
    panel.model.set_problem(problem, panel.model.x)
    qtbot.wait(3 * FOOTER_INTERVAL_MS)  # long after the panel's last render
    for report in reports:
        show(panel, report)
    first = answer.text()
    assert first == html.escape(
        headline(reports[0].result, reports[0].reference, reports[0].diagnosis, advice_pending=True)
    )
    assert lines(panel, "tape", "float64")[0] != ""  # cells are current
    last = reports[-1]
    expected = html.escape(
        headline(last.result, last.reference, last.diagnosis, advice_pending=True)
    )
    qtbot.waitUntil(lambda: answer.text() == expected, timeout=FOOTER_INTERVAL_MS * 4)


def test_while_the_probe_is_dragged_the_footer_stays_greyed_and_follows_on_release(
    panel: ResultsPanel, report_factory: Callable[..., ProbeReport]
) -> None:
    """Its wrapped paragraphs cost a relayout each (3.9 ms): they wait for the release."""
    problem = Problem(n=40, jitter=1e-6, solver="cholesky")
    first, second = report_factory(problem, 1.0), report_factory(problem, 1.5)
    show(panel, first)
    before = plain(label(panel, "answer").text())
    panel.model.set_dragging(True)
    show(panel, second)
    answer = label(panel, "answer")
    assert plain(answer.text()) == before and answer.text().startswith("<i>")
    cell = second.result.cell("tape", "float64")  # the cells follow every report
    digits = second.diagnosis.correct_digits[("tape", "float64")]
    assert lines(panel, "tape", "float64")[0] == compact(cell.grad, "float64", digits)
    panel.model.set_dragging(False)
    expected = headline(second.result, second.reference, second.diagnosis, advice_pending=True)
    assert label(panel, "answer").text() == html.escape(expected)


def test_the_spread_says_its_probability_and_confidence(panel: ResultsPanel) -> None:
    show(panel, well_report())
    for dtype in DTYPES:
        tip = label(panel, f"spread_{dtype}").toolTip()
        assert "probability 95%" in tip and "confidence 95%" in tip
        assert "significantdigits" in tip
