"""The panel's table: one row per path, a column per dtype.

Each gradient is printed as :func:`~gradviz.core.io.report.format_value` prints it, its
correct leading digits (from the diagnosis) in the normal text colour and the wrong ones
greyed, so agreement between paths can be told apart from correctness. The count of
correct digits sits under each value, in the value's column: a column of its own per
dtype made the side column ~120 px wider and the plots narrower at 1280x720.
"""

from __future__ import annotations

import functools
import html
import math
import re

from PyQt6.QtCore import QRect, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QFont, QFontMetrics, QPainter, QPaintEvent, QPalette
from PyQt6.QtWidgets import QFrame, QGridLayout, QLabel

from gradviz.core.io.report import format_value, split_correct_digits
from gradviz.core.numerics.results import (
    DTYPES,
    PATH_SPEC,
    PATH_SPECS,
    Cell,
    DType,
    PathName,
    ProbeReport,
)
from gradviz.core.problem.quantity import QUANTITY, Quantity
from gradviz.gui import style
from gradviz.gui.panel_text import (
    FAILURE_WORDS,
    against_words,
    integer_width,
    seed_print,
    shown_value,
)

PLACEHOLDER = "…"
QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's largest widget size: no maximum
_LONGEST = "text_shape"  # a cell's property: the largest text it was measured for
_TAG = re.compile(r"<[^>]*>")
_POINT_SIZE = re.compile(r"font-size:([0-9.]+)pt")
# Widest shown text per dtype, e.g. "-1.234568e-07" and "-1.23456789012e-07".
VALUE_CHARS = (13, 18)
# The seed's print a cell is sized for, "(grad," over " x)": the longest shortest-repr
# of each dtype (float32: 15 characters, float64: 23), so that no gradient and no dragged
# x widens the column (and re-lays out the plots) mid-drag.
PRINT_SIZED_FOR = {"float32": -1.1476903502165252e-27, "float64": -0.00014279511951245902}
PRINT_SIZED_AT = -1.2345678901234568e-05


def mono_label(name: str, font: QFont) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setFont(font)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


class ResultsTable(QFrame):
    """The grid of cells, framed on the base colour; every other row gets the alternate
    base colour, so a row of numbers can be followed across the columns. A cell shows the
    value, its count of correct digits, mu and the seed's print, one per line; its context
    menu asks for every digit of the value (``copy_requested``)."""

    copy_requested = pyqtSignal(str, str)  # path, dtype

    def __init__(self, mono: QFont) -> None:
        super().__init__()
        self.setObjectName("table")
        self._mono = mono
        self._striped = [row for row, _ in enumerate(PATH_SPECS, start=2)][1::2]
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.cells: dict[tuple[PathName, DType], QLabel] = {}
        self._quantity = QUANTITY["mean-slope"]
        self._corner = QLabel()
        self._copy_actions: list[QAction] = []
        self._build()
        self.set_quantity(self._quantity)

    def _build(self) -> None:
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(5)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.addWidget(self._corner, 0, 0, Qt.AlignmentFlag.AlignBottom)
        for index, dtype in enumerate(DTYPES):
            head = QLabel(f"<b>{dtype}</b>")
            head.setObjectName(f"head_{dtype}")
            head.setStyleSheet(f"color: {style.DTYPE_COLORS[dtype]};")
            head.setToolTip(
                f"{dtype}: grey digits disagree with the reference; 'ok' under each value "
                "counts its correct digits (correct digits, digits carried: see Help > Guide "
                "(F1), Glossary)"
            )
            grid.addWidget(head, 0, 1 + index, Qt.AlignmentFlag.AlignBottom)
            underline = QFrame()
            underline.setFixedHeight(2)
            underline.setStyleSheet(f"background: {style.DTYPE_COLORS[dtype]};")
            grid.addWidget(underline, 1, 1 + index)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Plain)
        rule.setStyleSheet(f"color: {style.muted_text()};")
        grid.addWidget(rule, 1, 0)
        metrics = QFontMetrics(self._mono)
        for index, chars in enumerate(VALUE_CHARS):
            grid.setColumnMinimumWidth(1 + index, metrics.horizontalAdvance("0" * chars))
        top_left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        for row, spec in enumerate(PATH_SPECS, start=2):
            name = QLabel(spec.label)
            name.setObjectName(f"row_{spec.name}")
            name.setFont(self._mono)
            name.setToolTip(f"<p>{html.escape(spec.help)}</p>")
            grid.addWidget(name, row, 0, top_left)
            for index, dtype in enumerate(DTYPES):
                cell = self._value_cell(spec.name, dtype)
                grid.addWidget(cell, row, 1 + index, top_left)
                self.cells[(spec.name, dtype)] = cell
        # A wider side column (the splitter dragged) widens the gaps, not the cells.
        for column, stretch in ((1, 1), (2, 1), (3, 2)):
            grid.setColumnStretch(column, stretch)

    def _value_cell(self, path: PathName, dtype: DType) -> QLabel:
        """A cell's label: selectable, and its context menu copies every digit."""
        cell = mono_label(f"cell_{path}_{dtype}", self._mono)
        cell.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        cell.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction(cell)
        copy.triggered.connect(functools.partial(self.copy_requested.emit, path, dtype))
        cell.addAction(copy)
        self._copy_actions.append(copy)
        return cell

    def set_quantity(self, quantity: Quantity) -> None:
        """Name ``quantity`` in the corner, the cells' menus and tooltips."""
        self._quantity = quantity
        self._corner.setText(quantity.slope)
        self._corner.setToolTip(
            f"{quantity.help[0].upper()}{quantity.help[1:]}, by each path "
            "(the paths: see Help > Guide (F1), Glossary)"
        )
        for action in self._copy_actions:
            action.setText(f"Copy {quantity.slope} (every digit)")

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

    # --- rendering -------------------------------------------------------------------

    def show_report(self, report: ProbeReport | None, stale: bool, show_mu: bool) -> None:
        """Every cell of ``report`` (placeholders for None). A cell keeps a fixed size, the
        one :meth:`refit` gave it, grown when a longer text needs more: a label of fixed
        size changes its text without asking the side column for a new layout, which
        would cost more than the text (a drag sends a report every frame)."""
        muted = style.muted_text()  # once per render: it blends two palette colours
        if report is None:
            for label in self.cells.values():
                label.setText(f"<span style='color:{muted}'>{PLACEHOLDER}</span>")
                label.setToolTip("")
            return
        widths = dict.fromkeys(DTYPES, 0)
        for cell in report.result.cells:
            if cell.error is None:
                digits = report.diagnosis.correct_digits.get((cell.path, cell.dtype))
                width = integer_width(shown_value(cell.grad, cell.dtype, digits))
                widths[cell.dtype] = max(widths[cell.dtype], width)
        against = against_words(report)
        limit = report.diagnosis.digits_against == "limit"
        for (path, dtype), label in self.cells.items():
            cell = report.result.cell(path, dtype)
            digits = report.diagnosis.correct_digits.get((path, dtype))
            html_text = self._cell_html(
                cell, digits, widths[dtype], stale=stale, muted=muted, show_mu=show_mu, limit=limit
            )
            _show(label, html_text)
            carried = report.diagnosis.carried_digits.get(dtype, math.nan)
            label.setToolTip(_cell_tooltip(cell, digits, self._quantity, against, carried))

    def refit(self, show_mu: bool) -> None:
        """Size every cell for a typical text: a value with every digit a cell shows, its
        count of correct digits, mu under it (``show_mu``) and the seed's print where the
        path has one (the longest of its dtype)."""
        muted = style.muted_text()
        for (path, dtype), label in self.cells.items():
            index = DTYPES.index(dtype)
            widest = "-" + "8" * (VALUE_CHARS[index] - 6) + "e-100"
            extra = {extra.key: PRINT_SIZED_AT for extra in PATH_SPEC[path].extras}
            cell = Cell(path, dtype, -0.6999544453493307, PRINT_SIZED_FOR[dtype], extra=extra)
            template = self._cell_html(
                cell, 17.0, 0, stale=False, muted=muted, show_mu=show_mu, limit=True
            )
            shown = shown_value(cell.grad, dtype, 17.0)
            _fix(label, template.replace(shown, widest, 1))

    def _small_pt(self) -> float:
        size = self._mono.pointSizeF()
        return max(6.0, 0.85 * (size if size > 0 else 9.0))

    def _cell_html(
        self,
        cell: Cell,
        digits: float | None,
        width: int,
        *,
        stale: bool,
        muted: str,
        show_mu: bool,
        limit: bool,
    ) -> str:
        """The value (decimal point at ``width`` characters), its count of correct digits
        ("vs limit" when counted against the jitter limit), mu and the seed's print."""
        small = f"font-size:{self._small_pt():.1f}pt; color:{muted}"
        if cell.failure_kind is not None:
            colour = muted if stale else style.ERROR_COLOR
            words = html.escape(FAILURE_WORDS[cell.failure_kind])
            if len(words) > VALUE_CHARS[0]:  # over two lines in a column sized for values
                head, _, tail = words.rpartition(" ")
                words = f"{head}<br>{tail}"
            text = f"<span style='color:{colour}'>{words}</span>"
            return f"<i>{text}</i>" if stale else text
        grad = shown_value(cell.grad, cell.dtype, digits)
        # Aligned on the decimal point where the width reserved for a value allows: a
        # longer line widened the side column, and re-laid out the plots, mid-drag.
        room = VALUE_CHARS[DTYPES.index(cell.dtype)] - len(grad)
        pad = "&nbsp;" * max(0, min(width - integer_width(grad), room))
        if stale:
            lines = [f"{pad}<span style='color:{muted}'>{html.escape(grad)}</span>"]
        else:
            good, bad = split_correct_digits(grad, digits)
            if digits is None:
                good, bad = grad, ""
            lines = [
                f"{pad}{html.escape(good)}<span style='color:{muted}'>{html.escape(bad)}</span>"
            ]
        lines.append(self._count_html(digits, stale, muted, limit=limit))
        if show_mu:
            mu = html.escape(shown_value(cell.mu, cell.dtype, digits))
            lines.append(f"<span style='{small}'>{self._quantity.value} = {mu}</span>")
        for extra in PATH_SPEC[cell.path].extras:
            if extra.printed_with_grad and extra.key in cell.extra and cell.grad is not None:
                value = cell.extra[extra.key]
                # As the seed prints it, over three lines: "(grad, x)" of two 17-digit
                # float64s on one line would widen the column by half.
                grad, at = seed_print(cell.grad, cell.dtype), seed_print(value, cell.dtype)
                lines.append(f"<span style='{small}'>prints</span>")
                lines.append(f"<span style='{small}'>({html.escape(grad)},</span>")
                lines.append(f"<span style='{small}'>&nbsp;{html.escape(at)})</span>")
        text = "<br>".join(lines)
        return f"<i>{text}</i>" if stale else text

    def _count_html(self, digits: float | None, stale: bool, muted: str, *, limit: bool) -> str:
        """The count of correct digits ("-" without a reference), "vs limit" after it
        when they are counted against the jitter limit (the exact answer undetermined)."""
        small = f"font-size:{self._small_pt():.1f}pt"
        if digits is None:
            return f"<span style='{small}; color:{muted}'>&ndash;</span>"
        count = math.floor(digits)
        colour = muted if stale else (style.ERROR_COLOR if count == 0 else "")
        colour_css = f"; color:{colour}" if colour else ""
        text = f"<span style='{small}{colour_css}'>{count}&nbsp;ok</span>"
        if limit:
            text += f"<span style='{small}; color:{muted}'>&nbsp;vs&nbsp;limit</span>"
        return text


def _show(label: QLabel, text: str) -> None:
    """Set ``text``; a text with a longer line or more lines than any before (in a
    monospace font, a proxy for more room) is measured, and the label's fixed size grows
    if it needs more."""
    if text == label.text():
        return
    label.setText(text)
    chars, lines = _shape(text, label.font().pointSizeF())
    seen = label.property(_LONGEST)
    if not isinstance(seen, tuple) or chars > seen[0] or lines > seen[1]:
        if isinstance(seen, tuple):
            chars, lines = max(chars, seen[0]), max(lines, seen[1])
        label.setProperty(_LONGEST, (chars, lines))
        hint = label.sizeHint()
        if hint.width() > label.width() or hint.height() > label.height():
            label.setFixedSize(hint.expandedTo(label.size()))


def _shape(html_text: str, point_size: float) -> tuple[float, int]:
    """(the longest line in characters of the label's ``point_size``, lines) of rich text
    as shown: a line set in a smaller font counts its characters at their size (the
    count and mu lines are smaller than the value, and a failure's words on the value's
    line need more room than as many small characters)."""
    lines = html_text.split("<br>")
    widest = 0.0
    for line in lines:
        sized = _POINT_SIZE.search(line)
        scale = float(sized.group(1)) / point_size if sized and point_size > 0 else 1.0
        shown = html.unescape(_TAG.sub("", line).replace("&nbsp;", " "))
        widest = max(widest, len(shown) * scale)
    return widest, len(lines)


def _fix(label: QLabel, typical: str) -> None:
    """Fix ``label`` at the size ``typical`` needs; its own text comes back."""
    text = label.text()
    label.setMinimumSize(0, 0)
    label.setMaximumSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX)
    label.setText(typical)
    label.setFixedSize(label.sizeHint())
    label.setProperty(_LONGEST, _shape(typical, label.font().pointSizeF()))
    label.setText(text)


def _cell_tooltip(
    cell: Cell, digits: float | None, quantity: Quantity, against: str, carried: float
) -> str:
    title = f"<b>{cell.path}</b>, {cell.dtype}"
    if cell.error is not None:
        return f"<p>{title}: no number</p><p>{html.escape(cell.error)}</p>"
    counted = (
        "unknown (no reference)"
        if digits is None
        else f"{digits:.1f} correct significant digits against {against} "
        f"({cell.dtype} carries {carried:.1f})"
    )
    lines = [
        title,
        f"{quantity.slope} = {format_value(cell.grad, cell.dtype)}",
        f"{quantity.value} = {format_value(cell.mu, cell.dtype)}",
        f"correct digits: {counted}",
    ]
    for extra in PATH_SPEC[cell.path].extras:
        if extra.key in cell.extra:
            value = f" = {cell.extra[extra.key]:.6g}"
            lines.append(extra.meaning + ("" if extra.printed_with_grad else value))
    return "<p>" + "<br>".join(lines) + "</p>"
