"""The main window: composes plots, panel and editor, owns the worker, paints results.

State held here is only what the user chose (the problem and x); every number
comes from the worker as an immutable record and goes straight to the views.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from PyQt6.QtCore import QByteArray, QEvent, QObject, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
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
from gradviz.core.files import SaveError
from gradviz.core.problem import COORDINATE_LIMIT, Problem
from gradviz.core.results import Curves, ProbeReport
from gradviz.core.session import Session, SessionError, View, load_session, save_session
from gradviz.gui.controls import ProblemEditor
from gradviz.gui.export import ExportError, export_plots, export_window, window_image
from gradviz.gui.export_dialog import ExportChoice, ExportDialog, default_name
from gradviz.gui.panel import ResultsPanel
from gradviz.gui.plots import PlotStack
from gradviz.gui.settings import WindowSettings
from gradviz.worker.thread import ComputeWorker, DataReady, Progress

STOP_TIMEOUT_MS = 2000
STATUS_TIMEOUT_MS = 8000
log = logging.getLogger(__name__)
# The panel greys its numbers as stale only when the new x's results take longer than
# this: while dragging they arrive within a frame or two, and greying them in between
# would flicker at 60 Hz (and costs a re-render per move).
STALE_AFTER_MS = 150
SESSION_FILTER = "gradviz session (*.json)"
# Below this the three plots' axes, legends and the probe marker no longer fit.
PLOTS_MIN_WIDTH = 400
# Width the side column's content reaches with the longest values it shows (17-digit
# float64 values, the seed's "(grad, x)" tuple at a dragged x; measured: 750 px). Reserved
# from the start so that the column does not widen, and re-lay out the plots, mid-drag.
SIDE_CONTENT_WIDTH = 780
DEFAULT_SIZE = (1600, 960)  # plots ~800 px wide beside that column


class _SideScroll(QScrollArea):
    """Vertical scrolling for the side column, never horizontal: it is as wide as the
    widest content it has shown, so a result that widens the table is never clipped."""

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._content_width = max(content.minimumSizeHint().width(), SIDE_CONTENT_WIDTH)
        content.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:
        width = self._content_width
        width += self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(width, super().minimumSizeHint().height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and isinstance(watched, QWidget):
            # ``watched``, not self.widget(): during teardown the latter may already be None,
            # and an exception escaping a Qt virtual aborts the process.
            width = watched.minimumSizeHint().width()
            # Grow only: the table's width follows the digits shown, and resizing the plots
            # on every report means a full repaint of all three, 60 times a second.
            if width > self._content_width:
                self._content_width = width
                self.updateGeometry()
        return False


class MainWindow(QMainWindow):
    """gradviz's window. ``complete`` fires when everything for the current problem and x
    is on screen (data, curves, every cell and the reference or its final status)."""

    complete = pyqtSignal()
    report_shown = pyqtSignal(object)  # the ProbeReport the panel now shows

    def __init__(
        self,
        problem: Problem,
        x: float,
        worker: ComputeWorker,
        settings: WindowSettings | None = None,
    ) -> None:
        super().__init__()
        self._problem = problem
        self._x = self._clamped(x)  # the marker cannot leave the domain, so neither can x
        self._settings = settings
        self._worker = worker
        self._tasks: dict[str, str] = {}
        self._have: set[str] = set()
        self._stale_timer = QTimer(self)
        self._stale_timer.setSingleShot(True)
        self._stale_timer.setInterval(STALE_AFTER_MS)
        # Bound methods, not lambdas, for every connection to this window: PyQt drops a
        # bound method's connection when its QObject is destroyed, but would still call a
        # lambda into a half-deleted window (one GUI test run segfaulted in such a lambda).
        self._stale_timer.timeout.connect(self._on_stale_timeout)
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
        scroll = _SideScroll(side)
        self.plots.setMinimumWidth(PLOTS_MIN_WIDTH)
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
        open_session = QAction("&Open session…", self)
        open_session.setShortcut(QKeySequence.StandardKey.Open)
        open_session.triggered.connect(self._on_open_session_triggered)
        save_session = QAction("&Save session…", self)
        save_session.setShortcut(QKeySequence.StandardKey.Save)
        save_session.triggered.connect(self._on_save_session_triggered)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        menu.addActions([open_session, save_session])
        menu.addSeparator()
        menu.addActions([export, copy])
        menu.addSeparator()
        menu.addAction(quit_action)
        about = QAction("&About gradviz", self)
        about.triggered.connect(self._on_about_triggered)
        self.menuBar().addMenu("&Help").addAction(about)
        for key, slot in (
            ("Left", self._on_left),
            ("Right", self._on_right),
            ("Shift+Left", self._on_shift_left),
            ("Shift+Right", self._on_shift_right),
        ):
            shortcut = QShortcut(QKeySequence(key), self.plots)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def _connect_worker(self) -> None:
        self._worker.data_ready.connect(self._on_data_ready)
        self._worker.curves_ready.connect(self._on_curves_ready)
        self._worker.report_ready.connect(self._on_report_ready)
        self._worker.progress.connect(self._on_progress)
        self._worker.failed.connect(self._on_failed)

    def _restore_layout(self) -> None:
        self.resize(*DEFAULT_SIZE)
        if self._settings is None:
            return
        geometry, splitter = self._settings.geometry(), self._settings.splitter()
        if geometry is not None and self.restoreGeometry(geometry) and not self._fits_screen():
            log.warning(
                "ignoring the stored geometry %dx%d: off screen or below the minimum size",
                self.width(),
                self.height(),
            )
            self.resize(*DEFAULT_SIZE)
            self.move(self.screen().availableGeometry().topLeft())
        if splitter is not None:
            self._splitter.restoreState(splitter)

    def _fits_screen(self) -> bool:
        """The window is on a screen and at least its minimum size (a stored geometry may
        come from another monitor setup, or a broken file)."""
        minimum = self.minimumSizeHint()
        on_screen = any(
            screen.availableGeometry().intersects(self.frameGeometry())
            for screen in QApplication.screens()
        )
        return on_screen and self.width() >= minimum.width() and self.height() >= minimum.height()

    def show_message(self, message: str) -> None:
        """A sentence in the status bar for a while (e.g. settings that cannot be kept)."""
        self.statusBar().showMessage(message, STATUS_TIMEOUT_MS)

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

    def _on_left(self) -> None:
        self.nudge(-1)

    def _on_right(self) -> None:
        self.nudge(1)

    def _on_shift_left(self) -> None:
        self.nudge(-10)

    def _on_shift_right(self) -> None:
        self.nudge(10)

    def _on_stale_timeout(self) -> None:
        self.panel.show_pending(self._x)

    def nudge(self, steps: int) -> None:
        """Move the probe by ``steps`` grid steps (Left/Right; Shift: ten)."""
        self._on_x_changed(self._x + steps * self.grid_step())

    def _clamped(self, x: float) -> float:
        lo, hi = self._problem.domain
        return min(max(x, lo), hi)

    def _on_x_changed(self, x: float) -> None:
        x = self._clamped(x)
        if x != self._x:
            self._show_x(x)

    def _show_x(self, x: float) -> None:
        self._x = x
        self.plots.set_marker_x(x)
        self.panel.set_x(x)
        self._stale_timer.start()
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
        self.report_shown.emit(report)
        if report.result.x == self._x:
            self._stale_timer.stop()
            if not report.reference_pending:
                self._mark("report")
        elif not self._stale_timer.isActive():
            # An earlier x's answer, and the current x's is already overdue: say so.
            self.panel.show_pending(self._x)

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
        self.show_message(message)

    # --- sessions ------------------------------------------------------------------------

    def session(self) -> Session:
        """What a session file keeps: the problem, x and the view."""
        x_range = self.plots.view_x_range()
        if not all(math.isfinite(v) and abs(v) <= COORDINATE_LIMIT for v in x_range):
            x_range = None  # a view zoomed out of any meaning is not worth keeping
        view = View(show_mu=self.panel.shows_mu(), x_range=x_range)
        return Session(problem=self._problem, x=self._x, view=view)

    def apply_session(self, session: Session) -> None:
        """Show a loaded (already validated) session: problem, x, then the view."""
        if session.problem != self._problem:
            self._x = session.x  # clamped into the domain, with a note, as the problem applies
            self._on_problem_applied(session.problem)
        else:
            self._on_x_changed(session.x)
        self.panel.set_shows_mu(session.view.show_mu)
        if session.view.x_range is not None:
            self.plots.set_view_x_range(*session.view.x_range)

    def _session_folder(self) -> Path:
        return self._settings.export_folder() if self._settings else Path.home()

    def _on_open_session_triggered(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Open session", str(self._session_folder()), SESSION_FILTER
        )
        if not chosen:
            return
        try:
            session = load_session(Path(chosen))
        except SessionError as error:
            QMessageBox.warning(self, "Cannot open session", str(error))
            return
        self.apply_session(session)
        self.statusBar().showMessage(f"Opened {chosen}", STATUS_TIMEOUT_MS)

    def _on_save_session_triggered(self) -> None:
        suggested = self._session_folder() / default_name(self._problem, self._x, ".json")
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save session", str(suggested), SESSION_FILTER
        )
        if not chosen:
            return
        try:
            save_session(Path(chosen), self.session())
        except SaveError as error:
            QMessageBox.warning(self, "Cannot save session", str(error))
            return
        self.statusBar().showMessage(f"Saved {chosen}", STATUS_TIMEOUT_MS)

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
        self._stale_timer.stop()
        self._worker.stop()
        self._worker.wait(STOP_TIMEOUT_MS)
        super().closeEvent(event)
