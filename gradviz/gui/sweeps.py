"""The Sweeps tab: correct digits against jitter, one plot per dtype, one curve per solver.

A view of the model's :class:`~gradviz.gui.model.SweepState`: each plot shows the digits
about the jitter-free answer per solver (a point per jitter), what cond(K + jitter I)
leaves of the dtype's digits (dotted), each library's default jitter (a labelled vertical
line) and, once the sweep is final, the best (jitter, solver) with its digits (see
``sweep_plots.py``). Below them, the central difference's |error| against its step h. The
status line says what runs and for how long. Clicking a point asks for that jitter and
solver (``jitter_chosen``); the controller sweeps while the tab is shown (``shown_changed``).
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QHideEvent, QResizeEvent, QShowEvent
from PyQt6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gradviz.core.io.files import SaveError, save_text
from gradviz.core.io.sweep_export import JITTER_COLUMNS, jitter_records, to_csv
from gradviz.core.numerics.results import DTYPES, DType
from gradviz.gui import style
from gradviz.gui.export import export_window
from gradviz.gui.model import SweepState, WindowModel
from gradviz.gui.plot_frame import color_plot
from gradviz.gui.sweep_plots import DtypePlot, StepPlot

EXPORT_FILTERS = "The rows as CSV (*.csv);;The tab as PNG (*.png)"
ELAPSED_SHOWN_AFTER_S = 1.0
CLOCK_MS = 500  # half a second: a timer firing early never skips a whole second
PROVISIONAL = "provisional: the best is starred once every reference is in"


def sweep_status(sweep: SweepState, now: float) -> str:
    """The status line: what the sweep does, for how long, and whether its points are final."""
    text = sweep.text if sweep.phase != "running" else f"sweeping: {sweep.text}"
    if sweep.since is not None and now - sweep.since >= ELAPSED_SHOWN_AFTER_S:
        text += f" ({now - sweep.since:.0f} s)"
    if sweep.jitter is not None and not sweep.final:
        text += f"; {PROVISIONAL}"
    return text


class SweepsView(style.PaletteFollower):
    """Digits against jitter for the model's sweep; buttons ask the controller."""

    jitter_chosen = pyqtSignal(float, str)  # jitter, solver of a clicked point
    sweep_requested = pyqtSignal()
    cancel_requested = pyqtSignal()
    retry_requested = pyqtSignal()
    shown_changed = pyqtSignal(bool)

    def __init__(self, model: WindowModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.status = QLabel()
        self.status.setObjectName("sweep_status")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.start_button = QPushButton("Sweep again")
        self.start_button.clicked.connect(self.sweep_requested)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("sweep_retry")
        self.retry_button.clicked.connect(self.retry_requested)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("The sweep's rows as CSV, or this tab as PNG")
        self.export_button.clicked.connect(self._on_export_clicked)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        for button in (self.export_button, self.retry_button, self.start_button):
            bar.addWidget(button)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        self.plots: dict[str, DtypePlot] = {}
        self._widgets: list[Any] = []
        for dtype in DTYPES:
            widget = pg.PlotWidget()
            layout.addWidget(widget, 1)
            self.plots[dtype] = DtypePlot(widget, dtype)
            self._widgets.append(widget)
            widget.scene().sigMouseClicked.connect(functools.partial(self._on_clicked, dtype))
        step_widget = pg.PlotWidget()
        layout.addWidget(step_widget, 1)
        self.step_plot = StepPlot(step_widget)
        self._widgets.append(step_widget)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_MS)
        self._clock.timeout.connect(self._render_status)
        self.apply_palette()
        model.sweep_changed.connect(self._on_sweep_changed)
        self._on_sweep_changed()

    @property
    def model(self) -> WindowModel:
        return self._model

    @property
    def sweep(self) -> SweepState:
        return self._model.sweep

    def _on_clicked(self, dtype: DType, event: Any) -> None:
        """A left click near a point or the star asks for exactly its (jitter, solver)."""
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        position = event.scenePos()
        chosen = self.plots[dtype].point_at(position.x(), position.y())
        if chosen is not None:
            event.accept()
            self.jitter_chosen.emit(*chosen)

    def apply_palette(self) -> None:
        background, foreground = style.plot_colors()
        for widget in self._widgets:
            widget.setBackground(background)
            plot = widget.getPlotItem()
            plot.titleLabel.setText(plot.titleLabel.text, color=foreground.name())
            color_plot(plot, foreground, ("left", "bottom"))

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        self.shown_changed.emit(True)

    def hideEvent(self, event: QHideEvent | None) -> None:
        super().hideEvent(event)
        self.shown_changed.emit(False)

    def _on_sweep_changed(self) -> None:
        sweep = self._model.sweep
        for plot in self.plots.values():
            plot.show(sweep.jitter, sweep.final)
        self.step_plot.show(sweep.step)
        self.cancel_button.setEnabled(sweep.phase in ("running", "waiting"))
        self.retry_button.setVisible(sweep.retry)
        if sweep.since is not None and not self._clock.isActive():
            self._clock.start()
        elif sweep.since is None:
            self._clock.stop()
        self._render_status()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self._render_status()  # elided again at the new width

    def _render_status(self) -> None:
        text = sweep_status(self._model.sweep, time.monotonic())
        self.status.setToolTip(text)
        metrics = self.status.fontMetrics()
        width = max(80, self.status.width())
        self.status.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, width))

    def export(self, path: Path) -> None:
        """The final jitter sweep's rows as CSV (as `gradviz sweep jitter --format csv`
        writes them), or the tab as PNG; raises SaveError with the reason."""
        sweep = self._model.sweep
        if path.suffix.lower() == ".csv":
            if sweep.jitter is None or not sweep.final:
                raise SaveError(f"Cannot save {path}: no sweep has finished yet.")
            save_text(path, to_csv(jitter_records(sweep.jitter), JITTER_COLUMNS))
        else:
            export_window(self, path)

    def _on_export_clicked(self) -> None:
        chosen, chosen_filter = QFileDialog.getSaveFileName(
            self, "Export the sweep", "sweep.csv", EXPORT_FILTERS
        )
        if not chosen:
            return
        path = Path(chosen)
        if not path.suffix:
            path = path.with_name(path.name + (".png" if "PNG" in chosen_filter else ".csv"))
        try:
            self.export(path)
        except SaveError as error:
            QMessageBox.warning(self, "Cannot export the sweep", str(error))
            return
        self.status.setText(f"exported {path}")
