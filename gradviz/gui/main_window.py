"""The main window: composes the views of one model and wires them to its controller.

It holds no state of its own: the problem, x and every result live in the
:class:`~gradviz.gui.model.WindowModel`; what the user asks for goes to the
:class:`~gradviz.gui.controller.WindowController`. Here: the layout (plots and Sweeps
tabs beside the side column), the menus, and a first geometry that fits the screen.
"""

from __future__ import annotations

import functools
import html
import logging
import platform
from collections.abc import Callable

from PyQt6.QtCore import QByteArray, QEvent, QObject, QRect, QSize, Qt, QTimer
from PyQt6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PyQt6.QtWidgets import (
    QApplication,
    QFrame,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gradviz import __version__
from gradviz.core.io.environment import environment
from gradviz.core.io.session import View
from gradviz.core.problem.spec import Problem
from gradviz.gui import style
from gradviz.gui.controller import WindowController
from gradviz.gui.controls import ProblemEditor
from gradviz.gui.guide import GuideDialog
from gradviz.gui.model import WindowModel
from gradviz.gui.panel import ResultsPanel
from gradviz.gui.plots import PlotStack
from gradviz.gui.problem_fold import ProblemFold
from gradviz.gui.settings import WindowSettings
from gradviz.gui.status import StatusView
from gradviz.gui.sweeps import SweepsView
from gradviz.gui.window_files import WindowFiles

log = logging.getLogger(__name__)
VERSION_KEYS = ("gradviz", "python", "tensorflow", "numpy", "python-flint", "qt")
# Below this the three plots' axes, legends and the probe marker no longer fit.
PLOTS_MIN_WIDTH = 400
MINIMUM_SIZE = (1100, 640)  # the side column (~470 px) beside plots of at least 400 px
DEFAULT_SIZE = (1600, 960)  # plots ~1100 px wide beside that column, where the screen has room
SIDE_MARGINS = (6, 4, 6, 4)  # around the side column's content (Qt's default: 11 or 9)


class _SideScroll(QScrollArea):
    """Vertical scrolling for the side column, never horizontal: it is as wide as the
    widest content it has shown, so a result that widens the table is never clipped.
    The table's cells are sized up front for the widest values they show (the seed's
    print at a dragged x included), so the column does not widen, and re-lay out the
    plots, mid-drag."""

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._content_width = content.minimumSizeHint().width()
        content.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:
        width = self._content_width
        scroll_bar = self.verticalScrollBar()
        width += 0 if scroll_bar is None else scroll_bar.sizeHint().width()
        width += 2 * self.frameWidth()
        return QSize(width, super().minimumSizeHint().height())

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        # ``watched``, not self.widget(): during teardown the latter may already be None,
        # and an exception escaping a Qt virtual aborts the process.
        laid_out = event is not None and event.type() == QEvent.Type.LayoutRequest
        if laid_out and isinstance(watched, QWidget):
            width = watched.minimumSizeHint().width()
            # Grow only: the table's width follows the digits shown, and resizing the
            # plots on every report means a full repaint of all three, 60 times a second.
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


def fitted(rect: QRect, size: tuple[int, int], available: QRect) -> QRect:
    """``rect`` resized to ``size`` at most and moved so that it lies inside
    ``available`` (shrunk to it where it is larger)."""
    width = min(size[0], available.width())
    height = min(size[1], available.height())
    left = min(max(rect.left(), available.left()), available.right() + 1 - width)
    top = min(max(rect.top(), available.top()), available.bottom() + 1 - height)
    return QRect(left, top, width, height)


class MainWindow(QMainWindow):
    """gradviz's window over ``model``; ``controller`` carries out what the user asks."""

    def __init__(
        self,
        model: WindowModel,
        controller: WindowController,
        settings: WindowSettings | None = None,
    ) -> None:
        super().__init__()
        self.model, self.controller, self.settings = model, controller, settings
        self.files = WindowFiles(self)
        self._guide: GuideDialog | None = None
        self._fitted_once = False
        self._build_views()
        bar = self.statusBar()
        assert bar is not None  # a QMainWindow creates its status bar on first request
        self.status = StatusView(model, bar)
        self.status.retry_clicked.connect(controller.retry)
        self.status.cancel_clicked.connect(controller.cancel_problem)
        self._build_menus()
        self._restore_layout()
        model.problem_changed.connect(self._on_problem_changed)
        self._on_problem_changed(model.problem)
        controller.start()

    # --- construction ------------------------------------------------------------------

    def _build_views(self) -> None:
        model, controller = self.model, self.controller
        self.plots = PlotStack(model)
        if self.settings is not None:
            self.plots.set_band_shown(self.settings.band())
            self.plots.band_toggled.connect(self.settings.save_band)
        self.panel = ResultsPanel(model)
        self.editor = ProblemEditor()
        self.sweeps = SweepsView(model)
        settings = self.settings
        self.fold = ProblemFold(self.editor, settings is not None and settings.editor_expanded())
        if settings is not None:
            self.fold.expanded_changed.connect(settings.save_editor_expanded)
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(*SIDE_MARGINS)
        column.addWidget(self.fold)
        column.addWidget(self.panel)  # its title names it: no group box, no second margin
        column.addStretch(1)
        self.plots.setMinimumWidth(PLOTS_MIN_WIDTH)
        self.setMinimumSize(*MINIMUM_SIZE)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Plots")
        self.tabs.addTab(self.sweeps, "Sweeps")
        self._splitter = QSplitter(Qt.Orientation.Horizontal)
        self._splitter.addWidget(self.tabs)
        self._splitter.addWidget(_SideScroll(side))
        self._splitter.setStretchFactor(0, 1)
        self._splitter.setStretchFactor(1, 0)
        self._splitter.setCollapsible(1, False)
        self.setCentralWidget(self._splitter)
        # Bound methods, not lambdas: PyQt drops a bound method's connection when its
        # QObject is destroyed, but would still call a lambda into a half-deleted window.
        self.plots.x_requested.connect(controller.move_to)
        self.plots.drag_changed.connect(controller.set_dragging)
        self.panel.x_requested.connect(controller.move_to)
        self.panel.nudge_requested.connect(controller.nudge)
        self.panel.copied.connect(model.say)
        self.panel.point_chosen.connect(controller.choose_sweep_point)
        self.editor.problem_applied.connect(controller.apply_problem)
        self.sweeps.jitter_chosen.connect(controller.choose_sweep_point)
        self.sweeps.sweep_requested.connect(controller.sweep_again)
        self.sweeps.cancel_requested.connect(controller.cancel_sweep)
        self.sweeps.retry_requested.connect(controller.retry)
        self.sweeps.shown_changed.connect(controller.set_sweeps_shown)

    def _action(
        self, text: str, slot: Callable[[], object], keys: QKeySequence | str | None = None
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(text.replace("&", "").rstrip("…").strip().lower().replace(" ", "_"))
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        files, bar = self.files, self.menuBar()
        assert bar is not None
        quit_keys = QKeySequence(QKeySequence.StandardKey.Quit)
        menu = bar.addMenu("&File")
        assert menu is not None
        menu.addActions([
            self._action("&Open session…", files.ask_open_session,
                         QKeySequence(QKeySequence.StandardKey.Open)),
            self._action("&Save session…", files.ask_save_session,
                         QKeySequence(QKeySequence.StandardKey.Save)),
            self._action("Open &data…", files.ask_open_data, "Ctrl+Shift+O"),
        ])  # fmt: skip
        self._recent_menu = menu.addMenu("Open &Recent")
        assert self._recent_menu is not None
        self._recent_menu.aboutToShow.connect(self._on_recent_menu_shown)
        menu.addSeparator()
        menu.addActions([
            self._action("&Export screenshot…", files.ask_export, "Ctrl+Shift+S"),
            self._action("&Copy screenshot", files.copy_screenshot),
            self._action("Export &data…", files.ask_export_data),
        ])  # fmt: skip
        menu.addSeparator()
        menu.addActions([
            self._action("Copy as scrip&t", files.copy_script),
            self._action("Save as scr&ipt…", files.ask_save_script),
        ])  # fmt: skip
        menu.addSeparator()
        # The platform's Quit key, or Ctrl+Q where the platform has none (offscreen, some WMs).
        menu.addAction(
            self._action("&Quit", self.close, quit_keys if not quit_keys.isEmpty() else "Ctrl+Q")
        )
        edit = bar.addMenu("&Edit")
        assert edit is not None
        undo = self.controller.undo_stack
        # Kept on self: PyQt hands these factory-made actions to Python, which would
        # delete them with the last reference.
        self._undo_action = undo.createUndoAction(self, "&Undo")
        self._redo_action = undo.createRedoAction(self, "&Redo")
        assert self._undo_action is not None and self._redo_action is not None
        self._undo_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self._redo_action.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        edit.addActions([self._undo_action, self._redo_action])
        self._build_view_menu()
        help_menu = bar.addMenu("&Help")
        assert help_menu is not None
        help_menu.addActions([
            self._action("&Guide", self.show_guide,
                         QKeySequence(QKeySequence.StandardKey.HelpContents)),
            self._action("&Keyboard shortcuts", self._on_keys_triggered),
            self._action("&About gradviz", self._on_about_triggered),
        ])  # fmt: skip
        for key, steps in (("Left", -1), ("Right", 1), ("Shift+Left", -10), ("Shift+Right", 10)):
            shortcut = QShortcut(QKeySequence(key), self.plots)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(functools.partial(self.controller.nudge, steps))

    def _build_view_menu(self) -> None:
        bar = self.menuBar()
        assert bar is not None
        view = bar.addMenu("&View")
        assert view is not None
        view.addAction(self._action("&Reset view", self.plots.reset_view, "Ctrl+0"))
        view.addAction(self.plots.band_action)
        themes = view.addMenu("&Theme")
        assert themes is not None
        group = QActionGroup(self)
        for theme in style.THEMES:
            action = QAction(theme.capitalize(), self)
            action.setCheckable(True)
            action.setChecked(theme == "system")
            action.setData(theme)
            group.addAction(action)
            themes.addAction(action)
        group.triggered.connect(self._on_theme_triggered)

    # --- geometry ------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        """The stored geometry and splitter, or the default size; either way shrunk and
        moved until the whole window is on a screen."""
        self.resize(*DEFAULT_SIZE)
        side = self._splitter.widget(1)
        width = DEFAULT_SIZE[0] if side is None else side.minimumSizeHint().width()
        self._splitter.setSizes([DEFAULT_SIZE[0] - width, width])
        settings = self.settings
        geometry = None if settings is None else settings.geometry()
        if geometry is not None and self.restoreGeometry(geometry):
            minimum = self.minimumSizeHint()
            if self.width() < minimum.width() or self.height() < minimum.height():
                log.warning(
                    "ignoring the stored geometry %dx%d: below the minimum size",
                    self.width(),
                    self.height(),
                )
                self.resize(*DEFAULT_SIZE)
        self.fit_on_screen()
        splitter = None if settings is None else settings.splitter()
        if splitter is not None:
            self._splitter.restoreState(splitter)

    def fit_on_screen(self, available: QRect | None = None) -> None:
        """Shrink and move the window until its whole frame lies on ``available`` (by
        default its screen's available area; without a window manager the first geometry
        is used as is). Offscreen (tests, screenshots) there is no screen to fit."""
        if available is None:
            screen = self.screen() or QApplication.primaryScreen()
            if screen is None or QApplication.platformName() == "offscreen":
                return
            available = screen.availableGeometry()
        frame, inner = self.frameGeometry(), self.geometry()
        extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
        width = min(inner.width(), available.width() - extra_w)
        height = min(inner.height(), available.height() - extra_h)
        if (width, height) != (inner.width(), inner.height()):
            log.info("window %dx%d shrunk to fit the screen", inner.width(), inner.height())
            self.resize(width, height)
        outer = (width + extra_w, height + extra_h)
        target = fitted(QRect(frame.topLeft(), QSize(*outer)), outer, available)
        if target.topLeft() != frame.topLeft():
            self.move(target.topLeft())

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        if not self._fitted_once:
            self._fitted_once = True
            # Once mapped, a window manager has added its frame: fit that too.
            QTimer.singleShot(0, self._fit_when_shown)

    def _fit_when_shown(self) -> None:
        self.fit_on_screen()

    def apply_view(self, view: View) -> None:
        """A session's view: Show mu and the plots' x range."""
        self.panel.set_shows_mu(view.show_mu)
        if view.x_range is not None:
            self.plots.set_view_x_range(*view.x_range)

    # --- model to view ---------------------------------------------------------------------

    def _on_problem_changed(self, problem: Problem) -> None:
        self.setWindowTitle(f"gradviz — {problem.summary()}")
        self.editor.set_problem(problem)
        self.fold.show_problem(problem)

    def _on_recent_menu_shown(self) -> None:
        if self._recent_menu is not None:
            self.files.fill_recent_menu(self._recent_menu)

    # --- help ----------------------------------------------------------------------------

    def show_guide(self, topic: str = "") -> GuideDialog:
        """Open the guide (one window, reused) at a glossary ``topic`` or at the top."""
        if self._guide is None:
            self._guide = GuideDialog(self)
        self._guide.show_topic(topic)
        return self._guide

    def _on_theme_triggered(self, action: QAction) -> None:
        style.apply_theme(str(action.data()))

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
        if copy is not None:
            copy.clicked.disconnect()  # keep the box open after copying
            copy.clicked.connect(functools.partial(self._copy_versions, versions))
        return box

    def _on_about_triggered(self) -> None:
        self.about_dialog().exec()

    def _copy_versions(self, text: str) -> None:
        clipboard = QApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(text)
            self.model.say("Copied the versions")

    # --- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent | None) -> None:
        if self.settings is not None:
            self.settings.save_state(self.model.problem, self.model.x)
            self.settings.save_layout(
                QByteArray(self.saveGeometry()), QByteArray(self._splitter.saveState())
            )
            self.settings.sync()
        self.controller.stop()
        super().closeEvent(event)
