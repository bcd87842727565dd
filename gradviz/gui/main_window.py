"""The main window: composes plots, panel and editor, owns the worker, paints results.

State held here is only what the user chose (the problem and x); every number
comes from the worker as an immutable record and goes straight to the views.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QByteArray, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gradviz import __version__
from gradviz.core.problem import Problem
from gradviz.core.results import Curves, ProbeReport
from gradviz.gui.controls import ProblemEditor
from gradviz.gui.export import ExportError, export_plots, export_window, window_image
from gradviz.gui.export_dialog import ExportChoice, ExportDialog
from gradviz.gui.panel import ResultsPanel
from gradviz.gui.plots import PlotStack
from gradviz.gui.settings import WindowSettings
from gradviz.worker.thread import ComputeWorker, DataReady, Progress

STOP_TIMEOUT_MS = 2000
STATUS_TIMEOUT_MS = 8000


class MainWindow(QMainWindow):
    """gradviz's window. ``complete`` fires when everything for the current problem and x
    is on screen (data, curves, every cell and the reference or its final status)."""

    complete = pyqtSignal()

    def __init__(
        self,
        problem: Problem,
        x: float,
        worker: ComputeWorker,
        settings: WindowSettings | None = None,
    ) -> None:
        super().__init__()
        self._problem = problem
        self._x = x
        self._settings = settings
        self._worker = worker
        self._tasks: dict[str, str] = {}
        self._have: set[str] = set()
        self._build_views()
        self._build_status_bar()
        self._build_actions()
        self._connect_worker()
        self._restore_layout()
        self._show_problem(problem)
        self._worker.start()
        self._submit()

    # --- construction ------------------------------------------------------------------

    def _build_views(self) -> None:
        self.plots = PlotStack()
        self.panel = ResultsPanel()
        self.editor = ProblemEditor()
        side = QWidget()
        column = QVBoxLayout(side)
        for title, view in (("Problem", self.editor), ("Gradients", self.panel)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(view)
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_width = side.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(side_width + 2 * scroll.frameWidth())
        self._splitter = QSplitter(Qt.Orientation.Horizontal)
        self._splitter.addWidget(self.plots)
        self._splitter.addWidget(scroll)
        self._splitter.setStretchFactor(0, 1)
        self._splitter.setStretchFactor(1, 0)
        self._splitter.setCollapsible(1, False)
        self.setCentralWidget(self._splitter)
        self.plots.x_changed.connect(self._on_x_changed)
        self.panel.x_requested.connect(self._on_x_changed)
        self.editor.problem_applied.connect(self._on_problem_applied)

    def _build_status_bar(self) -> None:
        self._status = QLabel()
        self._busy = QProgressBar()
        self._busy.setRange(0, 0)
        self._busy.setMaximumWidth(120)
        self._busy.setTextVisible(False)
        self._busy.hide()
        self.statusBar().addPermanentWidget(self._status)
        self.statusBar().addPermanentWidget(self._busy)

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu("&File")
        export = QAction("&Export screenshot…", self)
        export.setShortcut(QKeySequence("Ctrl+Shift+S"))
        export.triggered.connect(self._on_export_triggered)
        copy = QAction("&Copy screenshot", self)
        copy.triggered.connect(self._on_copy_screenshot_triggered)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        menu.addActions([export, copy])
        menu.addSeparator()
        menu.addAction(quit_action)
        about = QAction("&About gradviz", self)
        about.triggered.connect(self._on_about_triggered)
        self.menuBar().addMenu("&Help").addAction(about)
        for key, steps in (("Left", -1), ("Right", 1), ("Shift+Left", -10), ("Shift+Right", 10)):
            shortcut = QShortcut(QKeySequence(key), self.plots)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda steps=steps: self.nudge(steps))

    def _connect_worker(self) -> None:
        self._worker.data_ready.connect(self._on_data_ready)
        self._worker.curves_ready.connect(self._on_curves_ready)
        self._worker.report_ready.connect(self._on_report_ready)
        self._worker.progress.connect(self._on_progress)
        self._worker.failed.connect(self._on_failed)

    def _restore_layout(self) -> None:
        self.resize(1440, 900)
        if self._settings is None:
            return
        geometry, splitter = self._settings.geometry(), self._settings.splitter()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if splitter is not None:
            self._splitter.restoreState(splitter)

    # --- what the user asks for ----------------------------------------------------------

    @property
    def problem(self) -> Problem:
        return self._problem

    @property
    def x(self) -> float:
        return self._x

    def grid_step(self) -> float:
        lo, hi = self._problem.domain
        return (hi - lo) / (self._problem.n - 1)

    def nudge(self, steps: int) -> None:
        """Move the probe by ``steps`` grid steps (Left/Right; Shift: ten)."""
        self._on_x_changed(self._x + steps * self.grid_step())

    def _clamped(self, x: float) -> float:
        lo, hi = self._problem.domain
        return min(max(x, lo), hi)

    def _on_x_changed(self, x: float) -> None:
        x = self._clamped(x)
        if x == self._x:
            return
        self._x = x
        self.plots.set_marker_x(x)
        self.panel.set_x(x)
        self.panel.show_pending(x)
        self._have.discard("report")
        self._submit()

    def _on_problem_applied(self, problem: Problem) -> None:
        if problem == self._problem:
            return
        old_x = self._x
        self._problem = problem
        self._x = self._clamped(old_x)
        self._show_problem(problem)
        if self._x != old_x:
            self.statusBar().showMessage(
                f"x = {old_x:g} lies outside the new domain; moved to {self._x:g}",
                STATUS_TIMEOUT_MS,
            )
        self._submit()

    def _show_problem(self, problem: Problem) -> None:
        self._have.clear()
        self.setWindowTitle(f"gradviz — {problem.summary()}")
        self.plots.set_problem(problem)
        self.panel.set_problem(problem)
        self.editor.set_problem(problem)
        self.plots.set_marker_x(self._x)
        self.panel.set_x(self._x)
        self.panel.show_pending(self._x)

    def _submit(self) -> None:
        self._worker.submit(self._problem, self._x)

    # --- what the worker sends -----------------------------------------------------------

    def _on_data_ready(self, data: DataReady) -> None:
        if data.problem == self._problem:
            self.plots.set_data(data.grid, data.y)
            self._mark("data")

    def _on_curves_ready(self, curves: Curves) -> None:
        if curves.problem == self._problem:
            self.plots.set_curves(curves)
            self._mark("curves")

    def _on_report_ready(self, report: ProbeReport) -> None:
        if report.result.problem != self._problem:
            return
        self.plots.set_report(report)
        self.panel.show_report(report)
        if report.result.x == self._x and not report.reference_pending:
            self._mark("report")

    def _mark(self, part: str) -> None:
        self._have.add(part)
        if self.is_complete():
            self.complete.emit()

    def is_complete(self) -> bool:
        """Data, curves and a final report for the current problem and x are shown."""
        return {"data", "curves", "report"} <= self._have

    def _on_progress(self, progress: Progress) -> None:
        if progress.busy and progress.message:
            self._tasks[progress.task] = progress.message
        else:
            self._tasks.pop(progress.task, None)
        self._status.setText(" · ".join(self._tasks.values()))
        self._busy.setVisible(bool(self._tasks))

    def _on_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, STATUS_TIMEOUT_MS)

    # --- screenshots ---------------------------------------------------------------------

    def export(self, choice: ExportChoice) -> None:
        """Write the screenshot; raises ExportError with the reason."""
        if choice.what == "window":
            export_window(self, choice.path, choice.width)
        else:
            export_plots(self.plots, choice.path, choice.width)

    def _on_export_triggered(self) -> None:
        folder = self._settings.export_folder() if self._settings else Path.home()
        dialog = ExportDialog(self._problem, self._x, folder, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        choice = dialog.choice()
        try:
            self.export(choice)
        except ExportError as error:
            QMessageBox.warning(self, "Export failed", str(error))
            return
        if self._settings is not None:
            self._settings.save_export_folder(choice.path.parent)
        self.statusBar().showMessage(f"Saved {choice.path}", STATUS_TIMEOUT_MS)

    def _on_copy_screenshot_triggered(self) -> None:
        QApplication.clipboard().setImage(window_image(self))
        self.statusBar().showMessage("Screenshot copied to the clipboard", STATUS_TIMEOUT_MS)

    def _on_about_triggered(self) -> None:
        QMessageBox.about(
            self,
            "About gradviz",
            f"<b>gradviz {__version__}</b><p>A precision lab for TensorFlow gradients: "
            "every path in float32 and float64 next to a ball-arithmetic reference.</p>",
        )

    # --- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._settings is not None:
            self._settings.save_state(self._problem, self._x)
            self._settings.save_layout(
                QByteArray(self.saveGeometry()), QByteArray(self._splitter.saveState())
            )
            self._settings.sync()
        self._worker.stop()
        self._worker.wait(STOP_TIMEOUT_MS)
        super().closeEvent(event)
