"""The results panel: every gradient path in both dtypes at one x, digit by digit.

It computes nothing. Every number arrives in a :class:`ProbeReport`; this
module only turns numbers into text: each gradient is printed as
:func:`~gradviz.core.io.report.format_value` prints it, its correct leading
digits (from the diagnosis) in the normal text colour and the wrong ones
greyed, so agreement between paths can be told apart from correctness.
"""

from __future__ import annotations

import functools
import html
import math
import re
import time
from collections.abc import Mapping

import numpy as np
from PyQt6.QtCore import QRect, QSignalBlocker, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import (
    QAction,
    QFont,
    QFontDatabase,
    QFontInfo,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PyQt6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gradviz.core.analysis.headline import headline
from gradviz.core.io.report import (
    condition_line,
    condition_words,
    format_value,
    reference_words,
    split_correct_digits,
    verdict_words,
)
from gradviz.core.numerics.results import (
    DTYPES,
    PATH_SPEC,
    PATH_SPECS,
    SPREAD_MAX_N,
    Cell,
    DType,
    FailureKind,
    PathName,
    ProbeReport,
    Spread,
)
from gradviz.core.problem.spec import COORDINATE_LIMIT, Problem
from gradviz.gui import style

PLACEHOLDER = "…"
FOOTER_INTERVAL_MS = 150
TITLE_MIN_WIDTH = 160
GLOSSARY_TIP = (
    "The answer in one paragraph, from the numbers below. "
    "Every term is in Help > Guide (F1), Glossary."
)
X_DECIMALS = 6
# Widest format_value text per dtype, e.g. "-1.23456789e-07" and "-1.2345678901234567e-07".
# Significant digits a cell shows: what float32 carries; for float64 two past the correct
# ones, 7..12. The tooltip and Copy keep every digit.
SHOWN_FLOAT32 = 7
SHOWN_AT_LEAST = 7
SHOWN_AT_MOST = 12
# Widest shown text per dtype, e.g. "-1.234568e-07" and "-1.23456789012e-07".
VALUE_CHARS = (13, 18)
TSV_HEADER = (
    "path",
    "float32 grad",
    "float32 digits",
    "float64 grad",
    "float64 digits",
    "float32 mu",
    "float64 mu",
)

# A failed cell's few words, at most SHORT_ERROR_CHARS; the full reason is its tooltip.
SHORT_ERROR_CHARS = 24
FAILURE_WORDS: dict[FailureKind, str] = {
    FailureKind.CHOLESKY_NOT_PD: "Cholesky failed",
    FailureKind.SINGULAR_INVERSE: "singular K",
    FailureKind.NON_FINITE: "NaN or Inf",
    FailureKind.OUT_OF_MEMORY: "out of memory",
    FailureKind.TENSORFLOW_ERROR: "TensorFlow error",
    FailureKind.TIMEOUT: "timed out",
}


def spread_text(spreads: Mapping[DType, Spread | None], dtype: DType) -> str:
    """One dtype's spread in the panel's words."""
    if dtype not in spreads:
        return f"spread not computed (only up to n = {SPREAD_MAX_N}: 16 more solves per dtype)"
    spread = spreads[dtype]
    if spread is None:
        return "no spread: its perturbed copies gave no number"
    if spread.grad_min == spread.grad_max:
        return f"all {spread.samples} perturbed copies print {spread.grad_min:.9g}"
    return (
        f"equivalent programs print anything from {spread.grad_min:.4g} to "
        f"{spread.grad_max:.4g} (about {math.floor(spread.significant_digits)} significant digits)"
    )


def seed_print(value: float, dtype: DType) -> str:
    """A number as the seed's ``print`` shows it: the shortest text of its own dtype."""
    return str(np.float32(value)) if dtype == "float32" else repr(float(value))


def shown_value(value: float | None, dtype: DType, digits: float | None) -> str:
    """A value with the significant digits that matter (see SHOWN_FLOAT32): a compact cell
    that never forces the panel wider than the plots."""
    if value is None:
        return format_value(value, dtype)
    if dtype == "float32":
        significant = SHOWN_FLOAT32
    elif digits is None:
        significant = SHOWN_AT_LEAST
    else:
        significant = min(SHOWN_AT_MOST, max(SHOWN_AT_LEAST, math.floor(digits) + 2))
    return f"{value:.{significant}g}"


def _digits_text(digits: float | None) -> str:
    return "" if digits is None else f"{digits:.1f}"


def _integer_width(text: str) -> int:
    """Characters before the decimal point (or exponent) so columns align on it."""
    for index, char in enumerate(text):
        if char in ".eE":
            return index
    return len(text)


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])")


def _mono_numbers(text: str, family: str) -> str:
    """Rich text with every long number (6+ characters) set in the monospace font."""

    def mono(match: re.Match[str]) -> str:
        number = match.group(0)
        if len(number) < 6:
            return number
        return f"<span style='font-family:\"{family}\"'>{number}</span>"

    return _NUMBER.sub(mono, text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _StripedTable(QFrame):
    """A framed grid on the base colour whose ``striped`` rows get the alternate base
    colour, so a row of numbers can be followed across the columns."""

    def __init__(self, striped: list[int]) -> None:
        super().__init__()
        self._striped = striped
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)

    def paintEvent(self, event: QPaintEvent | None) -> None:
        super().paintEvent(event)
        grid = self.layout()
        if not isinstance(grid, QGridLayout):
            return
        palette = self.palette()
        colour = palette.color(QPalette.ColorRole.AlternateBase)
        if colour.rgb() == palette.color(QPalette.ColorRole.Base).rgb():
            colour = palette.color(QPalette.ColorRole.Window)
        half = grid.verticalSpacing() // 2
        inner = self.contentsRect()
        painter = QPainter(self)
        for row in self._striped:
            cell = grid.cellRect(row, 0)
            band = QRect(inner.left(), cell.top() - half, inner.width(), cell.height() + 2 * half)
            painter.fillRect(band, colour)
        painter.end()


class ResultsPanel(QWidget):
    """One :class:`ProbeReport`: a row per path, a column per dtype, then the reference,
    the conditioning and the verdicts. Emits ``x_requested`` when the user types an x."""

    x_requested = pyqtSignal(float)
    copied = pyqtSignal(str)  # what went to the clipboard, in words for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._problem = Problem()
        self._report: ProbeReport | None = None
        self._footer_at = -math.inf  # when the footer was last rendered (monotonic)
        self._footer_timer = QTimer(self)
        self._footer_timer.setSingleShot(True)
        self._footer_timer.setInterval(FOOTER_INTERVAL_MS)
        self._footer_timer.timeout.connect(self._on_footer_due)
        self._pending_x: float | None = None
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._mono.setStyleHint(QFont.StyleHint.Monospace)

        layout = QVBoxLayout(self)
        layout.addLayout(self._build_header())
        layout.addWidget(self._summary)
        self._answer = self._footer_label("answer")
        self._answer.setToolTip(GLOSSARY_TIP)
        layout.addWidget(self._answer)
        layout.addWidget(self._build_table())
        layout.addLayout(self._build_footer())
        layout.addStretch(1)

        self.set_problem(self._problem)

    # --- construction ----------------------------------------------------------------

    def _build_header(self) -> QHBoxLayout:
        self._title = QLabel()
        self._title.setObjectName("title")
        self._title.setTextFormat(Qt.TextFormat.RichText)
        # It wraps rather than widening the side column (and moving the splitter) when a
        # dragged x has 17 digits or a pending x is shown beside the current one.
        self._title.setWordWrap(True)
        self._title.setMinimumWidth(TITLE_MIN_WIDTH)
        self._summary = QLabel()
        self._summary.setObjectName("summary")

        self._spin = QDoubleSpinBox()
        self._spin.setObjectName("x_spin")
        self._spin.setDecimals(X_DECIMALS)
        self._spin.setKeyboardTracking(False)
        self._spin.setAccelerated(True)
        self._spin.setPrefix("x = ")
        self._spin.setToolTip("Probe an exact x: type it and press Enter, or step one grid point")
        self._spin.setFont(self._mono)
        self._spin.valueChanged.connect(self._on_x_changed)

        self._show_mu = QCheckBox("Show mu")
        self._show_mu.setObjectName("show_mu")
        self._show_mu.setChecked(True)
        self._show_mu.setToolTip("Show the posterior mean mu(x) under each gradient")
        self._show_mu.toggled.connect(self._on_show_mu_changed)

        self._copy_button = QPushButton("Copy")
        self._copy_button.setObjectName("copy")
        self._copy_button.setToolTip("Copy the table as tab-separated text")
        self._copy_button.clicked.connect(self.copy_table)
        self._copy_action = QAction("Copy table", self)
        self._copy_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
        self._copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._copy_action.triggered.connect(self.copy_table)
        self.addAction(self._copy_action)

        header = QHBoxLayout()
        header.addWidget(self._title, 1)
        header.addWidget(self._spin)
        header.addSpacing(8)
        header.addWidget(self._show_mu)
        header.addWidget(self._copy_button)
        return header

    def _build_footer(self) -> QVBoxLayout:
        self._reference = self._footer_label("reference")
        self._condition = self._footer_label("condition")
        self._carried = self._footer_label("carried")
        self._spreads = {dtype: self._footer_label(f"spread_{dtype}") for dtype in DTYPES}
        self._verdicts = {dtype: self._footer_label(f"verdict_{dtype}") for dtype in DTYPES}
        tips = {
            self._reference: "reference, ball arithmetic, undetermined and jitter limit",
            self._condition: "cond(K)",
            self._carried: "digits carried",
            **dict.fromkeys(self._spreads.values(), "spread"),
            **dict.fromkeys(self._verdicts.values(), "correct digits and cond(K)"),
        }
        for label, terms in tips.items():
            label.setToolTip(f"{terms}: see Help > Guide (F1), Glossary")
        footer = QVBoxLayout()
        footer.setSpacing(3)
        footer.setContentsMargins(2, 0, 2, 0)
        for label in (self._reference, self._condition, self._carried):
            footer.addWidget(label)
        footer.addSpacing(4)
        for label in (*self._spreads.values(), *self._verdicts.values()):
            footer.addWidget(label)
        return footer

    def _build_table(self) -> QFrame:
        self._cells: dict[tuple[str, str], QLabel] = {}
        self._badges: dict[tuple[str, str], QLabel] = {}
        table = _StripedTable([row for row, _ in enumerate(PATH_SPECS, start=2)][1::2])
        table.setObjectName("table")
        grid = QGridLayout(table)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(5)
        grid.setContentsMargins(10, 8, 10, 8)
        corner = QLabel("d mu/dx")
        corner.setToolTip(
            "The derivative of the posterior mean at x, by each path "
            "(the paths: see Help > Guide (F1), Glossary)"
        )
        grid.addWidget(corner, 0, 0, Qt.AlignmentFlag.AlignBottom)
        for index, dtype in enumerate(DTYPES):
            column = 1 + 3 * index
            head = QLabel(f"<b>{dtype}</b>")
            head.setObjectName(f"head_{dtype}")
            head.setStyleSheet(f"color: {style.DTYPE_COLORS[dtype]};")
            head.setToolTip(
                f"{dtype}: grey digits disagree with the reference; 'ok' counts correct digits "
                "(correct digits, digits carried: see Help > Guide (F1), Glossary)"
            )
            grid.addWidget(head, 0, column, 1, 2, Qt.AlignmentFlag.AlignBottom)
            underline = QFrame()
            underline.setFixedHeight(2)
            underline.setStyleSheet(f"background: {style.DTYPE_COLORS[dtype]};")
            grid.addWidget(underline, 1, column, 1, 2)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Plain)
        rule.setStyleSheet(f"color: {style.muted_text()};")
        grid.addWidget(rule, 1, 0)
        grid.setColumnMinimumWidth(3, 16)
        metrics = QFontMetrics(self._mono)
        for index, chars in enumerate(VALUE_CHARS):
            grid.setColumnMinimumWidth(1 + 3 * index, metrics.horizontalAdvance("0" * chars))
            grid.setColumnMinimumWidth(2 + 3 * index, metrics.horizontalAdvance("00 ok"))
        top_left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        top_right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
        for row, spec in enumerate(PATH_SPECS, start=2):
            path = spec.name
            name = QLabel(spec.label)
            name.setObjectName(f"row_{path}")
            name.setFont(self._mono)
            name.setToolTip(f"<p>{html.escape(spec.help)}</p>")
            grid.addWidget(name, row, 0, top_left)
            for index, dtype in enumerate(DTYPES):
                column = 1 + 3 * index
                cell = self._value_cell(path, dtype)
                badge = self._mono_label(f"badge_{path}_{dtype}")
                grid.addWidget(cell, row, column, top_left)
                grid.addWidget(badge, row, column + 1, top_right)
                self._cells[(path, dtype)] = cell
                self._badges[(path, dtype)] = badge
        grid.setColumnStretch(3, 1)
        grid.setColumnStretch(6, 2)
        return table

    def _value_cell(self, path: PathName, dtype: DType) -> QLabel:
        """A cell's label: selectable, and its context menu copies every digit."""
        cell = self._mono_label(f"cell_{path}_{dtype}")
        cell.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        cell.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction("Copy d mu/dx (every digit)", cell)
        copy.triggered.connect(functools.partial(self.copy_cell, path, dtype))
        cell.addAction(copy)
        return cell

    def _mono_label(self, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setFont(self._mono)
        label.setTextFormat(Qt.TextFormat.RichText)
        return label

    def _footer_label(self, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    # --- public API ------------------------------------------------------------------

    def set_problem(self, problem: Problem) -> None:
        """A new problem: the spin box spans its domain in grid steps; no numbers yet."""
        self._problem = problem
        self._report = None
        self._pending_x = None
        lo, hi = problem.domain
        with QSignalBlocker(self._spin):
            # Any x the plots can show may be typed; the window clamps it into the domain
            # and says so (a QDoubleSpinBox would silently turn 100 into 1.0).
            self._spin.setRange(-COORDINATE_LIMIT, COORDINATE_LIMIT)
            self._spin.setSingleStep((hi - lo) / (problem.n - 1))
        self._render()

    def set_x(self, x: float) -> None:
        """Show x in the spin box without emitting ``x_requested``."""
        with QSignalBlocker(self._spin):
            self._spin.setValue(x)

    def show_report(self, report: ProbeReport) -> None:
        """Display every cell, the reference, the conditioning and the verdicts."""
        if report.result.problem != self._problem:
            self.set_problem(report.result.problem)
        self._report = report
        self._pending_x = None
        self._render()

    def show_pending(self, x: float) -> None:
        """x is being computed: the numbers shown turn stale (muted, italic)."""
        self._pending_x = x
        self.set_x(x)
        self._render()

    def table_text(self) -> str:
        """The table as tab-separated text: the header, a row per path, then the
        reference, the condition number, the digits carried and the verdicts."""
        rows = [list(TSV_HEADER)]
        report = self._report
        for spec in PATH_SPECS:
            path = spec.name
            grads, digits, mus = [], [], []
            for dtype in DTYPES:
                if report is None:
                    grads.append("")
                    digits.append("")
                    mus.append("")
                    continue
                cell = report.result.cell(path, dtype)
                if cell.error is not None:
                    grads.append(f"error: {_one_line(cell.error)}")
                    mus.append("")
                else:
                    grads.append(format_value(cell.grad, dtype))
                    mus.append(format_value(cell.mu, dtype))
                digits.append(_digits_text(report.diagnosis.correct_digits.get((path, dtype))))
            rows.append([spec.label, grads[0], digits[0], grads[1], digits[1], *mus])
        if report is not None:
            diagnosis = report.diagnosis
            if report.reference is None:
                rows.append(["reference", report.reference_note or "pending"])
            else:
                for line in reference_words(report.reference)[1]:
                    rows.append(["reference", line])
            rows.append(["cond(K + jitter I)", condition_words(diagnosis)[1]])
            rows.append(["digits carried", self._carried_plain()])
            for dtype in DTYPES:
                rows.append([f"spread {dtype}", spread_text(report.result.spread, dtype)])
            for dtype, verdict in diagnosis.verdicts.items():
                rows.append([f"verdict {dtype}", verdict_words(verdict)])
            rows.append(["answer", self._answer_text()])
            rows.append(["x", repr(float(report.result.x))])
            rows.append(["problem", report.result.problem.description()])
            if self._pending_x is not None:
                rows.append(["stale", f"computing x = {self._pending_x!r}"])
        return "\n".join("\t".join(_one_line(field) for field in row) for row in rows) + "\n"

    def shows_mu(self) -> bool:
        """Whether the cells show mu under each gradient (the "Show mu" toggle)."""
        return self._show_mu.isChecked()

    def set_shows_mu(self, shown: bool) -> None:
        self._show_mu.setChecked(shown)

    def copy_cell(self, path: PathName, dtype: DType) -> None:
        """Put one cell's d mu/dx, every digit of it, on the clipboard (its context menu)."""
        clipboard = QApplication.clipboard()
        if self._report is None or clipboard is None:
            return
        cell = self._report.result.cell(path, dtype)
        text = format_value(cell.grad, dtype) if cell.error is None else cell.error
        clipboard.setText(text)
        self.copied.emit(f"Copied {PATH_SPEC[path].label} {dtype}: {text}")

    def copy_table(self) -> None:
        """Put :meth:`table_text` on the clipboard and say so."""
        clipboard = QApplication.clipboard()
        if clipboard is not None:
            text = self.table_text()
            clipboard.setText(text)
            rows = text.count("\n") - 1
            self.copied.emit(f"Copied the results table ({rows} rows, tab-separated)")

    # --- handlers --------------------------------------------------------------------

    def _on_x_changed(self, value: float) -> None:
        self.x_requested.emit(float(value))

    def _on_show_mu_changed(self, _checked: bool) -> None:
        self._render_cells()

    # --- rendering -------------------------------------------------------------------

    def _small_pt(self) -> float:
        size = self._mono.pointSizeF()
        return max(6.0, 0.85 * (size if size > 0 else 9.0))

    def _render(self) -> None:
        self._render_header()
        self._render_cells()
        self._schedule_footer()

    def _schedule_footer(self) -> None:
        """The footer's wrapped paragraphs cost a relayout of the column (2-3 ms) on every
        report: while a drag sends one every frame, they follow at most every
        FOOTER_INTERVAL_MS; a single report renders them at once."""
        now = time.monotonic()
        if now - self._footer_at >= FOOTER_INTERVAL_MS / 1000:
            self._footer_timer.stop()
            self._footer_at = now
            self._render_footer()
        elif not self._footer_timer.isActive():
            self._footer_timer.start()

    def _on_footer_due(self) -> None:
        self._footer_at = time.monotonic()
        self._render_footer()

    def flush(self) -> None:
        """Render a footer still waiting for its interval now (before a screenshot, or for
        a reader that must see the latest words)."""
        if self._footer_timer.isActive():
            self._footer_timer.stop()
            self._on_footer_due()

    def _render_header(self) -> None:
        muted = style.muted_text()
        report = self._report
        shown = None if report is None else repr(float(report.result.x))
        if self._pending_x is not None:
            text = f"<b>Computing x = {html.escape(repr(float(self._pending_x)))}…</b>"
            if shown is not None:
                text += f" <span style='color:{muted}'>(showing x = {shown})</span>"
        elif shown is None:
            text = f"<b>Gradients</b> <span style='color:{muted}'>(no result yet)</span>"
        else:
            text = f"<b>Gradients at x = {shown}</b>"
        self._title.setText(text)
        self._summary.setText(self._problem.summary())
        if self._summary.styleSheet() != f"color: {muted};":  # re-styling costs a polish
            self._summary.setStyleSheet(f"color: {muted};")

    def _render_cells(self) -> None:
        report = self._report
        stale = self._pending_x is not None
        muted = style.muted_text()  # once per render: it blends two palette colours
        widths = dict.fromkeys(DTYPES, 0)
        if report is not None:
            for cell in report.result.cells:
                if cell.error is None:
                    digits = report.diagnosis.correct_digits.get((cell.path, cell.dtype))
                    width = _integer_width(shown_value(cell.grad, cell.dtype, digits))
                    widths[cell.dtype] = max(widths[cell.dtype], width)
        for (path, dtype), label in self._cells.items():
            badge = self._badges[(path, dtype)]
            if report is None:
                label.setText(f"<span style='color:{muted}'>{PLACEHOLDER}</span>")
                label.setToolTip("")
                badge.setText("")
                badge.setToolTip("")
                continue
            cell = report.result.cell(path, dtype)
            digits = report.diagnosis.correct_digits.get((path, dtype))
            label.setText(self._cell_html(cell, digits, widths[dtype], stale, muted))
            label.setToolTip(self._cell_tooltip(cell, digits))
            badge.setText(self._badge_html(cell, digits, stale, muted))
            badge.setToolTip(
                ""
                if digits is None
                else f"{digits:.1f} correct significant digits against the reference "
                f"({dtype} carries {report.diagnosis.carried_digits.get(dtype, math.nan):.1f})"
            )

    def _cell_html(
        self, cell: Cell, digits: float | None, width: int, stale: bool, muted: str
    ) -> str:
        small = f"font-size:{self._small_pt():.1f}pt; color:{muted}"
        if cell.failure_kind is not None:
            colour = muted if stale else style.ERROR_COLOR
            words = FAILURE_WORDS[cell.failure_kind]
            text = f"<span style='color:{colour}'>{html.escape(words)}</span>"
            return f"<i>{text}</i>" if stale else text
        grad = shown_value(cell.grad, cell.dtype, digits)
        pad = "&nbsp;" * max(0, width - _integer_width(grad))
        if stale:
            lines = [f"{pad}<span style='color:{muted}'>{html.escape(grad)}</span>"]
        else:
            good, bad = split_correct_digits(grad, digits)
            if digits is None:
                good, bad = grad, ""
            lines = [
                f"{pad}{html.escape(good)}<span style='color:{muted}'>{html.escape(bad)}</span>"
            ]
        if self._show_mu.isChecked():
            mu = html.escape(shown_value(cell.mu, cell.dtype, digits))
            lines.append(f"<span style='{small}'>mu = {mu}</span>")
        for extra in PATH_SPEC[cell.path].extras:
            if extra.printed_with_grad and extra.key in cell.extra and cell.grad is not None:
                value = cell.extra[extra.key]
                # As the seed prints it, broken after the comma: a float64 x has up to 17
                # digits, and one line would widen the column.
                grad, at = seed_print(cell.grad, cell.dtype), seed_print(value, cell.dtype)
                lines.append(f"<span style='{small}'>prints ({html.escape(grad)},</span>")
                lines.append(f"<span style='{small}'>&nbsp;{html.escape(at)})</span>")
        text = "<br>".join(lines)
        return f"<i>{text}</i>" if stale else text

    def _cell_tooltip(self, cell: Cell, digits: float | None) -> str:
        title = f"<b>{cell.path}</b>, {cell.dtype}"
        if cell.error is not None:
            return f"<p>{title}: no number</p><p>{html.escape(cell.error)}</p>"
        lines = [
            title,
            f"d mu/dx = {format_value(cell.grad, cell.dtype)}",
            f"mu = {format_value(cell.mu, cell.dtype)}",
            "correct digits: " + ("unknown (no reference)" if digits is None else f"{digits:.1f}"),
        ]
        for extra in PATH_SPEC[cell.path].extras:
            if extra.key in cell.extra:
                value = f" = {cell.extra[extra.key]:.6g}"
                lines.append(extra.meaning + ("" if extra.printed_with_grad else value))
        return "<p>" + "<br>".join(lines) + "</p>"

    def _badge_html(self, cell: Cell, digits: float | None, stale: bool, muted: str) -> str:
        small = f"font-size:{self._small_pt():.1f}pt"
        if cell.error is not None:
            return ""
        if digits is None:
            return f"<span style='{small}; color:{muted}'>&ndash;</span>"
        count = math.floor(digits)
        colour = muted if stale else (style.ERROR_COLOR if count == 0 else "")
        colour_css = f"; color:{colour}" if colour else ""
        return f"<span style='{small}{colour_css}'>{count}&nbsp;ok</span>"

    def _answer_text(self) -> str:
        report = self._report
        if report is None:
            return ""
        return headline(report.result, report.reference, report.diagnosis)

    def _carried_plain(self) -> str:
        if self._report is None:
            return ""
        carried = self._report.diagnosis.carried_digits
        return ", ".join(f"{dtype} {carried[dtype]:.1f}" for dtype in DTYPES if dtype in carried)

    def _render_footer(self) -> None:
        report = self._report
        muted = style.muted_text()
        if report is None:
            for label in (
                self._reference,
                self._condition,
                self._carried,
                self._answer,
                *self._spreads.values(),
                *self._verdicts.values(),
            ):
                label.setText("")
            self._reference.setText(f"<span style='color:{muted}'>reference: {PLACEHOLDER}</span>")
            return
        stale_open, stale_close = ("<i>", "</i>") if self._pending_x is not None else ("", "")
        swatch = f"<span style='color:{style.REFERENCE_COLOR}'>■</span>"
        if report.reference is None:
            note = html.escape(report.reference_note or "reference: pending")
            reference = f"{swatch} <i style='color:{muted}'>{note}</i>"
        else:
            joint, words = reference_words(report.reference)
            lines = [
                _mono_numbers(html.escape(line), QFontInfo(self._mono).family()) for line in words
            ]
            head = f"<span style='color:{style.REFERENCE_COLOR}'><b>reference</b></span>"
            lines[0] = head + html.escape(joint) + lines[0]
            reference = f"{swatch} " + "<br>&nbsp;&nbsp;&nbsp;".join(lines)
        self._reference.setText(stale_open + reference + stale_close)
        self._condition.setText(
            stale_open + html.escape(condition_line(report.diagnosis)) + stale_close
        )
        carried = report.diagnosis.carried_digits
        parts = [
            f"<span style='color:{style.DTYPE_COLORS[dtype]}'>{dtype}</span> {carried[dtype]:.1f}"
            for dtype in DTYPES
            if dtype in carried
        ]
        self._carried.setText(f"digits carried (-log10 eps): {', '.join(parts)}")
        self._answer.setText(f"{stale_open}{html.escape(self._answer_text())}{stale_close}")
        for dtype, label in self._spreads.items():
            words = html.escape(spread_text(report.result.spread, dtype))
            label.setText(
                f"{stale_open}<b style='color:{style.DTYPE_COLORS[dtype]}'>{dtype}:</b> "
                f"{words}{stale_close}"
            )
        for dtype, label in self._verdicts.items():
            verdict = report.diagnosis.verdicts.get(dtype)
            body = "" if verdict is None else html.escape(verdict_words(verdict))
            label.setText(
                f"{stale_open}<b style='color:{style.DTYPE_COLORS[dtype]}'>{dtype}:</b> "
                f"{body}{stale_close}"
            )
