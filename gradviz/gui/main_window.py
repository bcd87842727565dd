"""The main window: composes plots, panel and editor, owns the worker, paints results.

State held here is only what the user chose (the problem and x); every number
comes from the worker as an immutable record and goes straight to the views.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QByteArray, QEvent, QObject, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QKeySequence,
    QShortcut,
    QUndoCommand,
    QUndoStack,
)
from PyQt6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gradviz import __version__
from gradviz.core.io.curve_export import CurvesExport, to_csv
from gradviz.core.io.environment import environment
from gradviz.core.io.files import SaveError, save_text
from gradviz.core.io.session import Session, SessionError, View, load_session, save_session
from gradviz.core.numerics.results import (
    Curves,
    PrecisionCurves,
    ProbeReport,
    Reference,
    ReferenceCurve,
)
from gradviz.core.problem.data import estimated_seconds
from gradviz.core.problem.spec import COORDINATE_LIMIT, Problem
from gradviz.gui import style
from gradviz.gui.controls import ProblemEditor
from gradviz.gui.export import ExportError, export_plots, export_window, window_image
from gradviz.gui.export_dialog import ExportChoice, ExportDialog, default_name
from gradviz.gui.guide import GuideDialog
from gradviz.gui.panel import ResultsPanel
from gradviz.gui.plots import PlotStack
from gradviz.gui.settings import WindowSettings
from gradviz.gui.sweeps import SweepsView
from gradviz.worker.compute_worker import ComputeWorker
from gradviz.worker.messages import DataReady, Progress

STOP_TIMEOUT_MS = 2000
STATUS_TIMEOUT_MS = 8000
log = logging.getLogger(__name__)
# The panel greys its numbers as stale only when the new x's results take longer than
# this: while dragging they arrive within a frame or two, and greying them in between
# would flicker at 60 Hz (and costs a re-render per move).
STALE_AFTER_MS = 150
ELAPSED_SHOWN_AFTER_S = 2.0  # a task running longer says for how long
VERSION_KEYS = ("gradviz", "python", "tensorflow", "numpy", "python-flint", "qt")
MOVE_COMMAND_ID = 1
LONG_WORK_S = 5.0  # a problem expected to take longer is announced, with Cancel
MERGE_MOVES_S = 1.0  # probe moves closer together than this are one undo step (a drag)
SESSION_FILTER = "gradviz session (*.json)"
DATA_FILTER = "CSV, one row per x (*.csv)"
# Below this the three plots' axes, legends and the probe marker no longer fit.
PLOTS_MIN_WIDTH = 400
# Width the side column's content reaches with the longest values it shows (cells keep
# the digits that matter, at most 12; the seed's float64 "(grad, x)" print at a dragged x
# is the widest line: measured 590 px). Reserved from the start so that the column does not
# widen, and re-lay out the plots, mid-drag.
SIDE_CONTENT_WIDTH = 600
MINIMUM_SIZE = (1100, 640)  # the side column (~620 px) beside plots of at least 400 px
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


def versions_text() -> str:
    """gradviz, Python, TensorFlow, numpy, python-flint, Qt, the BLAS core and the platform,
    one per line, as a bug report wants them (TensorFlow's version from its distribution:
    the window never imports it)."""
    found = environment()
    blas = found.get("blas") or {}
    lines = [f"{name}: {found.get(name)}" for name in VERSION_KEYS]
    lines.append(f"BLAS: {blas.get('name')} {blas.get('version')} (core {blas.get('core')})")
    lines.append(f"platform: {platform.platform()}")
    return "\n".join(lines)


class _StateChange(QUndoCommand):
    """One step between two (problem, x) states of a window. Consecutive probe moves within
    MERGE_MOVES_S merge into one step, so undoing a drag returns to where it started."""

    def __init__(
        self,
        window: MainWindow,
        before: tuple[Problem, float],
        after: tuple[Problem, float],
        text: str,
        merge: bool,
    ) -> None:
        super().__init__(text)
        self._window, self.before, self.after = window, before, after
        self._merge = merge
        self._at = time.monotonic()
        self._done = True  # pushed after the window already shows ``after``

    def id(self) -> int:
        return MOVE_COMMAND_ID if self._merge else -1

    def mergeWith(self, other: QUndoCommand | None) -> bool:
        if not isinstance(other, _StateChange) or other._at - self._at > MERGE_MOVES_S:
            return False
        self.after, self._at = other.after, other._at
        self.setText(other.text())
        return True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._window.go_to(*self.after)

    def undo(self) -> None:
        self._window.go_to(*self.before)


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
        self._guide: GuideDialog | None = None
        self._undo = QUndoStack(self)
        self._restoring = False  # undo/redo applies a state: it must not push another
        self._retrying: set[str] = set()  # tasks stopped after repeated failures
        self._started: dict[str, float] = {}  # when each busy task began (monotonic)
        self._elapsed_timer = QTimer(self)
        self._elapsed_timer.setInterval(1000)
        self._elapsed_timer.timeout.connect(self._show_tasks)
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
        self.setMinimumSize(*MINIMUM_SIZE)
        self._splitter = QSplitter(Qt.Orientation.Horizontal)
        self.sweeps = SweepsView()
        self.sweeps.jitter_chosen.connect(self._on_jitter_chosen)
        tabs = QTabWidget()
        tabs.addTab(self.plots, "Plots")
        tabs.addTab(self.sweeps, "Sweeps")
        self._splitter.addWidget(tabs)
        self._splitter.addWidget(scroll)
        self._splitter.setStretchFactor(0, 1)
        self._splitter.setStretchFactor(1, 0)
        self._splitter.setCollapsible(1, False)
        self.setCentralWidget(self._splitter)
        self.plots.x_changed.connect(self._on_x_changed)
        self.panel.x_requested.connect(self._on_x_changed)
        self.panel.copied.connect(self.show_message)
        self.editor.problem_applied.connect(self._on_problem_applied)

    def _build_status_bar(self) -> None:
        self._status = QLabel()
        self._busy = QProgressBar()
        self._busy.setRange(0, 0)
        self._busy.setMaximumWidth(120)
        self._busy.setTextVisible(False)
        self._busy.hide()
        self._retry = QPushButton("Retry")
        self._retry.setObjectName("retry")
        self._retry.setToolTip("Start the compute process that stopped after repeated failures")
        self._retry.clicked.connect(self._on_retry_clicked)
        self._retry.hide()
        self.statusBar().addPermanentWidget(self._status)
        self.statusBar().addPermanentWidget(self._busy)
        self._cancel = QPushButton("Cancel")
        self._cancel.setObjectName("cancel")
        self._cancel.setToolTip("Stop computing this problem and return to the previous one")
        self._cancel.clicked.connect(self._on_cancel_clicked)
        self._cancel.hide()
        self.statusBar().addPermanentWidget(self._retry)
        self.statusBar().addPermanentWidget(self._cancel)

    def _action(
        self, text: str, slot: Callable[[], object], keys: QKeySequence | str | None = None
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(text.replace("&", "").rstrip("…").strip().lower().replace(" ", "_"))
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self._build_file_menu()
        self._build_edit_and_view_menus()
        self._build_help_menu()
        for key, slot in (
            ("Left", self._on_left),
            ("Right", self._on_right),
            ("Shift+Left", self._on_shift_left),
            ("Shift+Right", self._on_shift_right),
        ):
            shortcut = QShortcut(QKeySequence(key), self.plots)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def _build_file_menu(self) -> None:
        # The platform's Quit key, or Ctrl+Q where the platform has none (offscreen, some WMs).
        quit_keys = QKeySequence(QKeySequence.StandardKey.Quit)
        menu = self.menuBar().addMenu("&File")
        menu.addActions(
            [
                self._action("&Open session…", self._on_open_session_triggered,
                             QKeySequence(QKeySequence.StandardKey.Open)),
                self._action("&Save session…", self._on_save_session_triggered,
                             QKeySequence(QKeySequence.StandardKey.Save)),
            ]
        )  # fmt: skip
        self._recent_menu = menu.addMenu("Open &Recent")
        self._recent_menu.aboutToShow.connect(self._on_recent_menu_shown)
        menu.addSeparator()
        menu.addActions(
            [
                self._action("&Export screenshot…", self._on_export_triggered, "Ctrl+Shift+S"),
                self._action("&Copy screenshot", self._on_copy_screenshot_triggered),
                self._action("Export &data…", self._on_export_data_triggered),
            ]
        )
        menu.addSeparator()
        menu.addAction(
            self._action("&Quit", self.close, quit_keys if not quit_keys.isEmpty() else "Ctrl+Q")
        )

    def _build_edit_and_view_menus(self) -> None:
        edit = self.menuBar().addMenu("&Edit")
        # Kept on self: PyQt hands these factory-made actions to Python, which would
        # delete them with the last reference.
        self._undo_action = self._undo.createUndoAction(self, "&Undo")
        self._undo_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self._redo_action = self._undo.createRedoAction(self, "&Redo")
        self._redo_action.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        edit.addActions([self._undo_action, self._redo_action])
        view = self.menuBar().addMenu("&View")
        view.addAction(self._action("&Reset view", self.plots.reset_view, "Ctrl+0"))
        themes = view.addMenu("&Theme")
        group = QActionGroup(self)
        for theme in style.THEMES:
            action = QAction(theme.capitalize(), self, checkable=True)
            action.setChecked(theme == "system")
            action.setData(theme)
            group.addAction(action)
            themes.addAction(action)
        group.triggered.connect(self._on_theme_triggered)

    def _build_help_menu(self) -> None:
        self.menuBar().addMenu("&Help").addActions(
            [
                self._action("&Guide", self._on_guide_triggered,
                             QKeySequence(QKeySequence.StandardKey.HelpContents)),
                self._action("&Keyboard shortcuts", self._on_keys_triggered),
                self._action("&About gradviz", self._on_about_triggered),
            ]
        )  # fmt: skip

    def _connect_worker(self) -> None:
        self._worker.data_ready.connect(self._on_data_ready)
        self._worker.curves_ready.connect(self._on_curves_ready)
        self._worker.report_ready.connect(self._on_report_ready)
        self._worker.reference_curve_ready.connect(self._on_reference_curve_ready)
        self._worker.precision_ready.connect(self._on_precision_ready)
        self._worker.progress.connect(self._on_progress)
        self._worker.failed.connect(self._on_failed)

    def _restore_layout(self) -> None:
        self.resize(*DEFAULT_SIZE)
        # The side column starts at the width its content needs; the plots get the rest.
        side = self._splitter.widget(1).minimumSizeHint().width()
        self._splitter.setSizes([DEFAULT_SIZE[0] - side, side])
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
        return self._clamped_to(self._problem, x)

    @staticmethod
    def _clamped_to(problem: Problem, x: float) -> float:
        lo, hi = problem.domain
        return min(max(x, lo), hi)

    def _on_x_changed(self, x: float) -> None:
        wanted, x = x, self._clamped(x)
        if wanted != x:
            lo, hi = self._problem.domain
            self.show_message(
                f"x = {wanted:g} lies outside the domain [{lo:g}, {hi:g}]; the probe is at {x:g}"
            )
            self.panel.set_x(x)
        if x != self._x:
            self._remember(self._problem, x, f"Move x to {x:.6g}", merge=True)
            self._show_x(x)

    def _remember(self, problem: Problem, x: float, text: str, merge: bool) -> None:
        """Push the change from the current (problem, x) onto the undo stack."""
        if not self._restoring:
            before = (self._problem, self._x)
            self._undo.push(_StateChange(self, before, (problem, x), text, merge))

    def go_to(self, problem: Problem, x: float) -> None:
        """Show ``problem`` at ``x`` without recording it (undo and redo)."""
        self._restoring = True
        try:
            if problem != self._problem:
                self._x = x
                self._on_problem_applied(problem)
            else:
                self._on_x_changed(x)
        finally:
            self._restoring = False

    @property
    def undo_stack(self) -> QUndoStack:
        return self._undo

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
        seconds = estimated_seconds(problem)
        if seconds >= LONG_WORK_S:
            self.show_message(
                f"n = {problem.n}: the first results will take about {seconds:.0f} s here; "
                "Cancel in the status bar returns to the previous problem"
            )
        self._remember(problem, self._clamped_to(problem, self._x), "Change the problem", False)
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
        self._shown_curves: Curves | None = None
        self._shown_truth: ReferenceCurve | None = None
        self._shown_precision: PrecisionCurves | None = None
        self._shown_reference: Reference | None = None
        self.setWindowTitle(f"gradviz — {problem.summary()}")
        self.plots.set_problem(problem)
        self.panel.set_problem(problem)
        self.editor.set_problem(problem)
        self.plots.set_marker_x(self._x)
        self.panel.set_x(self._x)
        self.panel.show_pending(self._x)

    def _on_jitter_chosen(self, jitter: float, solver: str) -> None:
        """A point of the jitter sweep: apply its jitter and solver."""
        self._on_problem_applied(self._problem.replace(jitter=jitter, solver=solver))

    def _submit(self) -> None:
        self.sweeps.set_target(self._problem, self._x)
        self._worker.submit(self._problem, self._x)

    # --- what the worker sends -----------------------------------------------------------

    def _on_data_ready(self, data: DataReady) -> None:
        if data.problem == self._problem:
            self.plots.set_data(data.grid, data.y)
            self._mark("data")

    def _on_curves_ready(self, curves: Curves) -> None:
        if curves.problem == self._problem:
            self._shown_curves = curves
            self.plots.set_curves(curves)
            self._mark("curves")

    def _on_reference_curve_ready(self, curve: ReferenceCurve) -> None:
        if curve.problem == self._problem:
            self._shown_truth = curve
            self.plots.set_reference_curve(curve)

    def _on_precision_ready(self, precision: PrecisionCurves) -> None:
        if precision.problem == self._problem:
            self._shown_precision = precision
            self.plots.set_precision(precision)

    def _on_report_ready(self, report: ProbeReport) -> None:
        if report.result.problem != self._problem:
            return
        if report.reference is not None:
            self._shown_reference = report.reference
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
        task = progress.task
        if progress.message and (progress.busy or progress.retry):
            self._tasks[task] = progress.message
        else:
            self._tasks.pop(task, None)
        if progress.busy and progress.message:
            self._started.setdefault(task, time.monotonic())
        else:
            self._started.pop(task, None)
        if progress.retry:
            self._retrying.add(task)
        else:
            self._retrying.discard(task)
        self._show_tasks()

    def _show_tasks(self) -> None:
        """Every task in words; one running for a while also says for how long."""
        now = time.monotonic()
        words = []
        for task, message in self._tasks.items():
            elapsed = now - self._started.get(task, now)
            shown = elapsed >= ELAPSED_SHOWN_AFTER_S
            words.append(f"{message} ({elapsed:.0f} s)" if shown else message)
        self._status.setText(" · ".join(words))
        self._busy.setVisible(bool(self._started))
        self._retry.setVisible(bool(self._retrying))
        # A new problem still being set up can be abandoned for the one before it.
        setting_up = bool({"data", "curves"} & set(self._started))
        self._cancel.setVisible(setting_up and self._undo.canUndo() and self._changed_problem())
        if self._started and not self._elapsed_timer.isActive():
            self._elapsed_timer.start()
        elif not self._started:
            self._elapsed_timer.stop()

    def _on_retry_clicked(self) -> None:
        self._worker.retry()

    def _changed_problem(self) -> bool:
        """The last undo step changed the problem (not just x)."""
        last = self._undo.command(self._undo.index() - 1)
        return isinstance(last, _StateChange) and last.before[0] != last.after[0]

    def _on_cancel_clicked(self) -> None:
        if self._changed_problem():
            self._undo.undo()
            self._cancel.hide()
            self.show_message(f"Cancelled: back to {self._problem.summary()}")

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
        if chosen:
            self.open_session(Path(chosen))

    def open_session(self, path: Path) -> bool:
        """Load a session file and show it, or say why not; nothing changes on failure."""
        try:
            session = load_session(path)
        except SessionError as error:
            QMessageBox.warning(self, "Cannot open session", str(error))
            return False
        self.apply_session(session)
        self._remember_session(path)
        self.show_message(f"Opened {path}")
        return True

    def _remember_session(self, path: Path) -> None:
        if self._settings is not None:
            self._settings.add_recent_session(path)

    def _on_recent_menu_shown(self) -> None:
        """File > Open Recent, rebuilt from the settings each time it opens."""
        menu = self._recent_menu
        menu.clear()
        recent = [] if self._settings is None else self._settings.recent_sessions()
        for index, path in enumerate(recent, start=1):
            action = menu.addAction(f"&{index} {path.name}")
            action.setToolTip(str(path))
            action.triggered.connect(functools.partial(self.open_session, path))
        if not recent:
            menu.addAction("No recent sessions").setEnabled(False)

    def _ask_save_path(self, title: str, suffix: str, file_filter: str) -> Path | None:
        """A file name from the Save dialog, with ``suffix`` appended when it has none
        (a session saved as "run1" must still show in the Open dialog's filter)."""
        suggested = self._session_folder() / default_name(self._problem, self._x, suffix)
        chosen, _ = QFileDialog.getSaveFileName(self, title, str(suggested), file_filter)
        if not chosen:
            return None
        path = Path(chosen)
        return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)

    def _on_save_session_triggered(self) -> None:
        path = self._ask_save_path("Save session", ".json", SESSION_FILTER)
        if path is None:
            return
        try:
            save_session(path, self.session())
        except SaveError as error:
            QMessageBox.warning(self, "Cannot save session", str(error))
            return
        self._remember_session(path)
        self.show_message(f"Saved {path}")

    def curves_export(self) -> CurvesExport | None:
        """The curves on screen as data (File > Export data), None before they exist.
        The reference columns are filled once the reference covers the whole grid."""
        curves = self._shown_curves
        if curves is None:
            return None
        truth = self._shown_truth
        if truth is None or not truth.complete or not np.array_equal(truth.x, curves.x):
            return CurvesExport(curves, None, None, None)
        return CurvesExport(curves, self._shown_reference, truth, self._shown_precision)

    def _on_export_data_triggered(self) -> None:
        export = self.curves_export()
        if export is None:
            self.show_message("No curves yet: they are still being computed")
            return
        path = self._ask_save_path("Export data", ".csv", DATA_FILTER)
        if path is None:
            return
        try:
            save_text(path, to_csv(export))
        except SaveError as error:
            QMessageBox.warning(self, "Cannot export data", str(error))
            return
        missing = "" if export.reference_curve else " (the reference over x is not ready yet)"
        self.show_message(f"Exported {len(export.curves.x)} rows to {path}{missing}")

    # --- screenshots ---------------------------------------------------------------------

    def export(self, choice: ExportChoice) -> None:
        """Write the screenshot; raises ExportError with the reason."""
        self.panel.flush()
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

    def show_guide(self, topic: str = "") -> GuideDialog:
        """Open the guide (one window, reused) at a glossary ``topic`` or at the top."""
        if self._guide is None:
            self._guide = GuideDialog(self)
        self._guide.show_topic(topic)
        return self._guide

    def _on_theme_triggered(self, action: QAction) -> None:
        style.apply_theme(str(action.data()))

    def _on_guide_triggered(self) -> None:
        self.show_guide()

    def _on_keys_triggered(self) -> None:
        self.show_guide("keys")

    def about_dialog(self) -> QMessageBox:
        """About gradviz, with the versions it runs on and a button that copies them."""
        versions = versions_text()
        box = QMessageBox(self)
        box.setObjectName("about")
        box.setWindowTitle("About gradviz")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(
            f"<b>gradviz {__version__}</b><p>A precision lab for TensorFlow gradients: "
            "every path in float32 and float64 next to a ball-arithmetic reference.</p>"
            f"<pre>{html.escape(versions)}</pre>"
        )
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        copy = box.addButton("Copy versions", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        copy.clicked.disconnect()  # keep the box open after copying
        copy.clicked.connect(functools.partial(self._copy_text, versions, "Copied the versions"))
        return box

    def _on_about_triggered(self) -> None:
        self.about_dialog().exec()

    def _copy_text(self, text: str, confirmation: str) -> None:
        clipboard = QApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(text)
            self.statusBar().showMessage(confirmation, STATUS_TIMEOUT_MS)

    # --- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._settings is not None:
            self._settings.save_state(self._problem, self._x)
            self._settings.save_layout(
                QByteArray(self.saveGeometry()), QByteArray(self._splitter.saveState())
            )
            self._settings.sync()
        self._stale_timer.stop()
        self._elapsed_timer.stop()
        self._worker.stop()
        self._worker.wait(STOP_TIMEOUT_MS)
        self.sweeps.stop()
        super().closeEvent(event)
