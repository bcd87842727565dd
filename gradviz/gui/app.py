"""Start the application: the interactive window, or a headless screenshot.

TensorFlow is never imported here: the window paints first, the worker's
process loads TensorFlow while the status bar says so.
"""

from __future__ import annotations

import locale
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pyqtgraph as pg
from PyQt6.QtCore import (
    QEvent,
    QEventLoop,
    QMessageLogContext,
    QSettings,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PyQt6.QtGui import QIcon, QPixmapCache
from PyQt6.QtWidgets import QApplication

from gradviz.core.problem import DEFAULT_X, Problem
from gradviz.core.session import Session, View
from gradviz.gui.export import ExportError
from gradviz.gui.export_dialog import ExportChoice
from gradviz.gui.main_window import MainWindow
from gradviz.gui.settings import APPLICATION, ORGANIZATION, WindowSettings
from gradviz.resources import resource_path
from gradviz.worker.compute_worker import ComputeWorker

SCREENSHOT_TIMEOUT_S = 300.0
OFFSCREEN_NOTICE = "This plugin does not support propagateSizeHints()"
PIXMAP_CACHE_KB = 64 * 1024


def has_display() -> bool:
    """Whether a windowing system is reachable (or a platform was chosen explicitly)."""
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def application() -> QApplication:
    """The QApplication, created once, with gradviz's names, icon and a C numeric locale."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setWindowIcon(QIcon(str(resource_path("icon.svg"))))
    # QApplication adopts the environment's numeric locale; gradviz parses "1.5" everywhere.
    locale.setlocale(locale.LC_NUMERIC, "C")
    pg.setConfigOptions(antialias=True)
    # The plots repaint axes and curves from cached pixmaps while the probe moves; Qt's
    # default 10 MB pixmap cache holds too few of them at 1600x960, and thrashing it made
    # drag frames ~4x slower (drag benchmark: slow frames 70% -> 1%).
    QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), PIXMAP_CACHE_KB))
    return app


def run_app(
    changes: Mapping[str, object], x: float | None, reset: bool, session: Session | None = None
) -> int:
    """Open the window on ``session`` (or the remembered problem) with ``changes`` applied."""
    if not has_display():
        print(
            "gradviz: error: no display (DISPLAY is not set); run it on a desktop, under "
            "xvfb-run, or use 'gradviz screenshot OUT.png' for a headless picture",
            file=sys.stderr,
        )
        return 1
    app = application()
    settings = WindowSettings(QSettings(ORGANIZATION, APPLICATION))
    if reset:
        settings.clear()
    problem = (settings.problem() if session is None else session.problem).replace(**changes)
    start_x = settings.x() if x is None else x
    window = MainWindow(problem, start_x, ComputeWorker(), settings)
    if session is not None:
        window.apply_session(replace(session, problem=problem, x=start_x))
    window.show()
    status = app.exec()
    dispose(window)
    return status


def _drop_offscreen_notice(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's offscreen plugin warns on every window shown; headless that is expected."""
    if message != OFFSCREEN_NOTICE:
        print(message, file=sys.stderr)


def dispose(window: MainWindow) -> None:
    """Close the window (stopping its worker) and destroy it while the QApplication is
    still alive. Left to Python's teardown, the window and the application are freed in
    no particular order, and a widget outliving its application segfaults at exit."""
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def wait_until_complete(window: MainWindow, timeout_s: float) -> bool:
    """Run the event loop until ``window.complete`` fires or the time is up."""
    if window.is_complete():
        return True
    loop = QEventLoop()
    window.complete.connect(loop.quit)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(timeout_s * 1000))
    loop.exec()
    return window.is_complete()


def run_screenshot(
    problem: Problem,
    x: float | None,
    choice: ExportChoice,
    size: tuple[int, int],
    *,
    view: View | None = None,
    timeout_s: float = SCREENSHOT_TIMEOUT_S,
) -> int:
    """Render the window without a screen, wait for every result, write one file."""
    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    qInstallMessageHandler(_drop_offscreen_notice)
    app = application()  # keep the reference: a collected QApplication takes the widgets down
    window = MainWindow(problem, DEFAULT_X if x is None else x, ComputeWorker())
    window.resize(*size)
    window.show()
    if view is not None:
        window.apply_session(Session(problem, window.x, view))
    try:
        app.processEvents()
        if (window.width(), window.height()) != size:
            raise ExportError(
                f"the window cannot be {size[0]}x{size[1]}: its content needs at least "
                f"{window.minimumSizeHint().width()}x{window.minimumSizeHint().height()}"
            )
        if not wait_until_complete(window, timeout_s):
            print(f"gradviz: error: results not ready after {timeout_s:g} s", file=sys.stderr)
            return 1
        QApplication.processEvents()
        window.export(choice)
    except ExportError as error:
        print(f"gradviz: error: {error}", file=sys.stderr)
        return 1
    finally:
        dispose(window)
    print(Path(choice.path))
    return 0
