"""The results panel: every gradient path in both dtypes at the model's x, digit by digit.

A view of the :class:`~gradviz.gui.model.WindowModel`; it computes nothing. It shows the
model's latest report: a header (what x, the x box, Show mu, Copy), the answer, the
table (``panel_table.py``) and the footer (``panel_footer.py``). While the current x's
report is overdue the numbers shown are greyed and the header says which x is computing.
"""

from __future__ import annotations

import html

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QAction, QFont, QFontDatabase, QKeySequence
from PyQt6.QtWidgets import (
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gradviz.core.io.report import format_value
from gradviz.core.numerics.results import PATH_SPEC, DType, PathName, ProbeReport
from gradviz.gui import style
from gradviz.gui.fixed_text import FixedText
from gradviz.gui.model import WindowModel
from gradviz.gui.panel_footer import Footer
from gradviz.gui.panel_table import ResultsTable
from gradviz.gui.panel_text import table_text
from gradviz.gui.x_box import XBox

TITLE_MIN_WIDTH = 160


class ResultsPanel(QWidget):
    """The model's report: a row per path, a column per dtype, then the reference, the
    conditioning and the verdicts. ``x_requested`` carries an x the user typed,
    ``nudge_requested`` a step of grid points (Up/Down in the x box), ``copied`` what went
    to the clipboard in words, ``point_chosen`` an advised (jitter, solver) clicked in the
    answer."""

    x_requested = pyqtSignal(float)
    nudge_requested = pyqtSignal(int)
    copied = pyqtSignal(str)
    point_chosen = pyqtSignal(float, str)  # jitter, solver of an advised configuration

    def __init__(self, model: WindowModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._mono.setStyleHint(QFont.StyleHint.Monospace)
        self._footer = Footer(self._mono, self)
        self._table = ResultsTable(self._mono)
        self._table.copy_requested.connect(self.copy_cell)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_header())
        layout.addWidget(self._x_error)
        layout.addWidget(self._summary)
        layout.addWidget(self._footer.answer)
        layout.addWidget(self._table)
        layout.addLayout(self._footer.column)
        layout.addStretch(1)
        model.problem_changed.connect(self._on_problem_changed)
        model.probe_moved.connect(self._on_probe_moved)
        model.report_changed.connect(self._render)
        model.stale_changed.connect(self._render)
        model.advice_changed.connect(self._render)
        self._footer.point_chosen.connect(self.point_chosen)
        self._footer.rendered.connect(self._render_summary)
        model.dragging_changed.connect(self._footer.hold)
        self._on_problem_changed()

    # --- construction ----------------------------------------------------------------

    def _build_header(self) -> QVBoxLayout:
        """The title across the column, and under it the x box, Show mu and Copy (in one
        row with the title they needed a side column ~60 px wider than the table)."""
        # Two lines: it wraps rather than widening the side column (and moving the
        # splitter) when a dragged x has 17 digits or a computing x is shown beside the
        # current one; it changes on every drag step, so it never asks for a new layout.
        self._title = FixedText(lines=2)
        self._title.setObjectName("title")
        self._title.setMinimumWidth(TITLE_MIN_WIDTH)
        # The problem, or which x the answer under it is being computed for: one line,
        # repainted on every drag step without a new layout.
        self._summary = FixedText(lines=1)
        self._summary.setObjectName("summary")

        self._x_box = XBox()
        self._x_box.setFont(self._mono)
        self._x_box.setMinimumWidth(self._x_box.fontMetrics().horizontalAdvance("0" * 14))
        self._x_box.x_requested.connect(self.x_requested)
        self._x_box.nudge_requested.connect(self.nudge_requested)
        self._x_box.textEdited.connect(self._on_x_text_edited)
        self._x_box.returnPressed.connect(self._show_x_error)
        self._x_error = QLabel()
        self._x_error.setObjectName("x_error")
        self._x_error.setWordWrap(True)
        self._x_error.setStyleSheet(f"color: {style.ERROR_COLOR};")
        self._x_error.hide()

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

        row = QHBoxLayout()
        self._x_label = QLabel("x =")
        self._x_label.setObjectName("x_label")
        row.addWidget(self._x_label)
        row.addWidget(self._x_box, 1)  # the room left: a dragged x's 17 digits show whole
        row.addSpacing(8)
        row.addWidget(self._show_mu)
        row.addWidget(self._copy_button)
        header = QVBoxLayout()
        header.addWidget(self._title)
        header.addLayout(row)
        return header

    # --- public API ------------------------------------------------------------------

    @property
    def model(self) -> WindowModel:
        return self._model

    def x_box(self) -> XBox:
        return self._x_box

    def table_text(self) -> str:
        """The table as tab-separated text (see ``panel_text.table_text``)."""
        return table_text(self._model.report, self._computing_x())

    def shows_mu(self) -> bool:
        """Whether the cells show mu under each gradient (the "Show mu" toggle)."""
        return self._show_mu.isChecked()

    def set_shows_mu(self, shown: bool) -> None:
        self._show_mu.setChecked(shown)

    def copy_cell(self, path: PathName, dtype: DType) -> None:
        """Put one cell's d mu/dx, every digit of it, on the clipboard (its context menu)."""
        clipboard = QApplication.clipboard()
        report = self._model.report
        if report is None or clipboard is None:
            return
        cell = report.result.cell(path, dtype)
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

    def flush(self) -> None:
        """Render a footer still waiting for its interval now (before a screenshot)."""
        self._footer.flush()

    # --- model to view ---------------------------------------------------------------

    def _on_problem_changed(self) -> None:
        quantity = self._model.problem.measured
        self._x_label.setText(f"{self._model.axis.symbol} =")
        self._x_box.set_problem(self._model.problem)
        self._table.set_quantity(quantity)
        self._show_mu.setText(f"Show {quantity.value}")
        self._show_mu.setToolTip(f"Show {quantity.value_at} under each gradient")
        self._x_box.show_x(self._model.x)
        self._show_x_error()
        self._table.refit(self._show_mu.isChecked())
        self._render()
        self._render_summary()

    def _on_probe_moved(self, x: float) -> None:
        """The x box and the answer's "computing at": the numbers shown stay until their
        report, or until they are overdue (``stale_changed``)."""
        self._x_box.show_x(x)
        self._show_x_error()
        self._render_summary()

    def _render_summary(self) -> None:
        """The problem's summary, or "answer: computing at x = ..." while the answer under
        it describes another x (or is held during a drag). One of them: both made two
        lines at the column's width; the Problem fold's title names the problem anyway,
        and keeps the column as wide as the summary."""
        model = self._model
        text = html.escape(model.problem.summary())
        if not self._footer.answer_is_for(model.problem, model.x):
            text = f"<i>answer: computing at {html.escape(model.axis.at(model.x))}…</i>"
        self._summary.setText(f"<span style='color:{style.muted_text()}'>{text}</span>")

    def _computing_x(self) -> float | None:
        """The x being computed while the numbers shown are another x's."""
        return self._model.x if self._model.stale else None

    def _render(self) -> None:
        report = self._model.report
        stale = self._model.stale
        self._render_header(report)
        self._table.show_report(report, stale, self._show_mu.isChecked())
        self._footer.show_report(report, stale, self._model.advice)

    def _render_header(self, report: ProbeReport | None) -> None:
        muted = style.muted_text()
        axis = self._model.axis
        shown = None if report is None else axis.at(report.result.x)
        computing = self._computing_x()
        # The mean's slope is what gradviz measured first: its panel says "Gradients".
        what = "Gradients" if axis.quantity.name == "mean-slope" else axis.quantity.slope
        if computing is not None:
            text = f"<b>Computing at {html.escape(axis.at(computing))}…</b>"
            if shown is not None:
                text += f" <span style='color:{muted}'>(showing {html.escape(shown)})</span>"
        elif shown is None:
            text = f"<b>{what}</b> <span style='color:{muted}'>(no result yet)</span>"
        else:
            text = f"<b>{what} at {html.escape(shown)}</b>"
        self._title.setText(text)

    def _on_show_mu_changed(self, checked: bool) -> None:
        self._table.refit(checked)
        self._render()

    def _on_x_text_edited(self, _text: str) -> None:
        self._show_x_error()

    def _show_x_error(self) -> None:
        error = self._x_box.error()
        self._x_error.setText(error or "")
        self._x_error.setVisible(error is not None)
