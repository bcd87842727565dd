"""Start the application: the interactive window, or a headless screenshot.

TensorFlow is never imported here: the window paints first, the worker's
process loads TensorFlow while the status bar says so.

Qt aborts the whole process (exit 134) when its platform plugin cannot start, so
before the window's QApplication exists a throwaway child process tries the same
platform (~60 ms here): if it fails, the window is not attempted and its stderr
becomes one message saying what is missing. Screenshots render offscreen always.
"""

from __future__ import annotations

import contextlib
import locale
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pyqtgraph as pg
from PyQt6.QtCore import (
    QEvent,
    QEventLoop,
    QMessageLogContext,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PyQt6.QtGui import QIcon, QPixmapCache
from PyQt6.QtWidgets import QApplication

from gradviz.core.io.session import Session, View
from gradviz.core.problem.spec import DEFAULT_X, Problem
from gradviz.gui.controller import ComputeService, SweepService, WindowController, start_at
from gradviz.gui.export import ExportError
from gradviz.gui.export_dialog import ExportChoice
from gradviz.gui.main_window import MainWindow
from gradviz.gui.model import WindowModel
from gradviz.gui.settings import APPLICATION, ORGANIZATION, WindowSettings, open_settings
from gradviz.resources import resource_path
from gradviz.worker.child import Child

LAYOUT_PASSES = 4
SCREENSHOT_TIMEOUT_S = 300.0
OFFSCREEN_NOTICE = "This plugin does not support propagateSizeHints()"
PIXMAP_CACHE_KB = 64 * 1024
DISPLAY_PROBE_TIMEOUT_S = 15.0
SIGNAL_POLL_MS = 100  # how often Python gets control, so a SIGINT/SIGTERM handler runs
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
XCB_PACKAGES = (
    "libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 "
    "libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1"
)
HEADLESS_HINT = "'gradviz screenshot OUT.png' and 'gradviz report' need no screen"
_PROBE = "import sys\nfrom PyQt6.QtGui import QGuiApplication\nQGuiApplication(sys.argv[:1])\n"


def display_problem() -> str | None:
    """Why the window cannot open on this machine (one sentence), or None when Qt's
    platform starts: tried in a child process, since a failure aborts the process."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not platform and not any(os.environ.get(n) for n in ("DISPLAY", "WAYLAND_DISPLAY")):
        return (
            "no display (DISPLAY is not set); run it on a desktop, under xvfb-run, "
            f"or with QT_QPA_PLATFORM=offscreen; {HEADLESS_HINT}"
        )
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=DISPLAY_PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return (
            f"the display {os.environ.get('DISPLAY', '')!r} did not answer within "
            f"{DISPLAY_PROBE_TIMEOUT_S:g} s; {HEADLESS_HINT}"
        )
    if probe.returncode == 0:
        return None
    return _platform_failure(probe.stderr, platform)


def _platform_failure(stderr: str, platform: str) -> str:
    """Qt's complaint, in what-is-missing-and-what-fixes-it words."""
    unknown = re.search(r'Could not find the Qt platform plugin "([^"]*)"', stderr)
    available = re.search(r"Available platform plugins are: ([^.\n]*)", stderr)
    choices = available.group(1) if available else "see Qt's documentation"
    if unknown:
        return (
            f'QT_QPA_PLATFORM="{unknown.group(1)}" is not a Qt platform (available: {choices}); '
            f"unset it or choose one of those; {HEADLESS_HINT}"
        )
    if "could not connect to display" in stderr:
        return (
            f"cannot connect to the display {os.environ.get('DISPLAY', '')!r}; start an X server "
            f"(or use xvfb-run) or set DISPLAY to a running one; {HEADLESS_HINT}"
        )
    if "xcb" in (platform or "xcb") and "xcb" in stderr:
        return (
            "Qt's xcb platform cannot load: system libraries are missing (Debian/Ubuntu: "
            f"sudo apt-get install {XCB_PACKAGES}); {HEADLESS_HINT}"
        )
    lines = [line for line in stderr.splitlines() if line.startswith("qt.")] or ["no reason given"]
    return f"Qt could not start its platform plugin ({lines[-1].strip()}); {HEADLESS_HINT}"


def application() -> QApplication:
    """The QApplication, created once, with gradviz's names, icon and a C numeric locale."""
    existing = QApplication.instance()
    # Qt's raster engine splits every fill or blit of 96 rows or more (each drag step's
    # strip through the plots) across a pool of threads and waits for them; with
    # TensorFlow on the other core those threads start late, and the waits were half of
    # the plots' paint time in a drag (py-spy, 2 cores). Read once, before the pool exists.
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
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


def open_window(
    model: WindowModel,
    settings: WindowSettings | None = None,
    compute: ComputeService | None = None,
    sweeps: SweepService | None = None,
    paths: Child | None = None,
) -> MainWindow:
    """The window over ``model``, with its workers (by default the real ones, which start
    their processes, or adopt ``paths``, a TensorFlow process started earlier; tests hand
    in recorded ones)."""
    if compute is None:
        from gradviz.worker.compute_worker import ComputeWorker

        compute = ComputeWorker(paths=paths)
    if sweeps is None:
        from gradviz.worker.sweep_worker import SweepWorker

        sweeps = SweepWorker()
    return MainWindow(model, WindowController(model, compute, sweeps), settings)


def run_app(
    changes: Mapping[str, object], x: float | None, reset: bool, session: Session | None = None
) -> int:
    """Open the window on ``session`` (or the remembered problem) with ``changes`` applied.

    TensorFlow's process starts as soon as the display is known to work, before the
    window is built: its import is the long pole of a cold start. (Not before the display
    check: on a busy machine it slowed that check's child past its time limit.) The
    window's worker adopts it; closing it here as well is a no-op then."""
    problem_with_display = display_problem()
    if problem_with_display is not None:
        print(f"gradviz: error: {problem_with_display}", file=sys.stderr)
        return 1
    from gradviz.worker.services import start_paths  # the worker's process code: here only

    paths = start_paths()
    try:
        return _run_window(changes, x, reset, session, paths)
    finally:
        paths.close()


def _run_window(
    changes: Mapping[str, object],
    x: float | None,
    reset: bool,
    session: Session | None,
    paths: Child,
) -> int:
    app = application()
    settings, settings_problem = open_settings()
    if settings is not None and reset:
        settings.clear()
    remembered = settings.problem() if settings is not None else Problem()
    problem = (remembered if session is None else session.problem).replace(**changes)
    if x is None:  # where it was, unless the changes put the probe on another axis
        x = start_at(remembered, problem, settings.x()) if settings is not None else None
    model = WindowModel(problem, problem.default_x if x is None else x)
    window = open_window(model, settings, paths=paths)
    if session is not None:
        window.apply_view(session.view)
    if model.x != x:
        model.say(f"x = {x:g} lies outside the domain; the probe is at {model.x:g}")
    if settings_problem is not None:
        model.say(settings_problem)
    window.show()
    status = app.exec()
    dispose(window)
    return status


def _drop_offscreen_notice(
    mode: QtMsgType, context: QMessageLogContext, message: str | None
) -> None:
    """Qt's offscreen plugin warns on every window shown; headless that is expected."""
    if message is not None and message != OFFSCREEN_NOTICE:
        print(message, file=sys.stderr)


def dispose(window: MainWindow) -> None:
    """Close the window (stopping its worker) and destroy it while the QApplication is
    still alive. Left to Python's teardown, the window and the application are freed in
    no particular order, and a widget outliving its application segfaults at exit."""
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def wait_until_complete(
    window: MainWindow, timeout_s: float, caught: Sequence[int] = (), *, settled: bool = False
) -> bool:
    """Run the event loop until the model's results are complete (with ``settled``, the
    measured advice too, unless the model measures none), the time is up or a signal was
    caught (see :func:`deferred_signals`)."""
    model = window.model
    done = model.is_settled if settled else model.is_complete
    if done():
        return True
    loop = QEventLoop()
    (model.settled if settled else model.completed).connect(loop.quit)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(timeout_s * 1000))

    def poll() -> None:
        if caught:
            loop.quit()

    # Python runs signal handlers only when it gets control: a timer hands it control.
    ticker = QTimer()
    ticker.timeout.connect(poll)
    ticker.start(SIGNAL_POLL_MS)
    try:
        loop.exec()
    finally:
        ticker.stop()
    return done()


@contextlib.contextmanager
def deferred_signals() -> Iterator[list[int]]:
    """While Qt runs (its loop, layouts, pyqtgraph's paint methods), SIGINT and SIGTERM
    are only recorded in the list yielded, and raised again once the block is left: the
    handlers installed before (the CLI's raise exceptions) then run in plain Python, not
    inside a Qt virtual, where an exception prints a traceback and is lost."""
    caught: list[int] = []

    def on_signal(number: int, frame: object) -> None:
        caught.append(number)

    previous = {number: signal.signal(number, on_signal) for number in STOP_SIGNALS}
    try:
        yield caught
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if caught:
            signal.raise_signal(caught[0])


def run_screenshot(
    problem: Problem,
    x: float | None,
    choice: ExportChoice,
    size: tuple[int, int],
    *,
    view: View | None = None,
    timeout_s: float = SCREENSHOT_TIMEOUT_S,
    advice: bool = True,
) -> int:
    """Render the window without a screen, wait for every result (the measured advice
    too, unless ``advice`` is False), write one file."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # whatever DISPLAY says: no screen needed
    qInstallMessageHandler(_drop_offscreen_notice)
    app = application()  # keep the reference: a collected QApplication takes the widgets down
    window: MainWindow | None = None
    try:
        # A signal here is raised when the block is left: no file is written.
        with deferred_signals() as caught:
            model = WindowModel(problem, DEFAULT_X if x is None else x, advice=advice)
            window = open_window(model)
            shown = _render_when_complete(
                app, window, size=size, view=view, timeout_s=timeout_s, caught=caught
            )
        if not shown:
            return 1
        window.files.export(choice)  # a signal now raises at once; the writer cleans up
    except ExportError as error:
        print(f"gradviz: error: {error}", file=sys.stderr)
        return 1
    finally:
        if window is not None:
            dispose(window)
    print(Path(choice.path))
    return 0


def _render_when_complete(
    app: QApplication,
    window: MainWindow,
    *,
    size: tuple[int, int],
    view: View | None,
    timeout_s: float,
    caught: Sequence[int],
) -> bool:
    """Show the window at ``size`` and run Qt until every result is on screen and laid
    out; False (having said why) when that does not happen in time."""
    window.resize(*size)
    window.show()
    if view is not None:
        window.apply_view(view)
    app.processEvents()
    if (window.width(), window.height()) != size:
        raise ExportError(
            f"the window cannot be {size[0]}x{size[1]}: its content needs at least "
            f"{window.minimumSizeHint().width()}x{window.minimumSizeHint().height()}"
        )
    if not wait_until_complete(window, timeout_s, caught, settled=True):
        if not caught:
            print(f"gradviz: error: results not ready after {timeout_s:g} s", file=sys.stderr)
        return False
    # The last report re-wraps labels, and each wrap asks for another layout pass.
    for _ in range(LAYOUT_PASSES):
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        QApplication.processEvents()
    return True
