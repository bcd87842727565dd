"""Screenshots: the whole window as PNG, the plots as PNG, SVG or PDF.

Plots PNGs are rendered, not scaled: the scene is drawn at the export's size with fonts,
legends and line widths grown with it, so a 2400 px or 4K export reads like the screen,
sharp. PDF is vector (Qt's PDF engine clips as the screen does). The window PNG is the
window as grabbed, smoothly scaled to the width asked for.

Every file is written atomically: the image is encoded in memory, written by
Python to a temporary file in the target folder (Qt never sees a file name, so
it cannot re-encode one that is not UTF-8), which then replaces the target in
one ``os.replace``. A failed
export leaves no partial, empty or temporary file behind, and an existing file
at the target stays as it was. Every failure becomes an :class:`ExportError`
whose message names the path and says why, in words the GUI can show as is.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import xml.dom.minidom
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyqtgraph.exporters
from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt
from PyQt6.QtGui import QImage, QPageSize, QPainter, QPdfWriter, QPixmap
from PyQt6.QtWidgets import QApplication, QGraphicsScene, QWidget

from gradviz.core.io.files import SaveError, check_target, write_atomically
from gradviz.gui.plot_items import PlotLook
from gradviz.gui.plots import PlotStack

SUPPORTED: dict[str, tuple[str, ...]] = {
    "window": (".png",),
    "plots": (".png", ".svg", ".pdf"),
}
MAX_WIDTH = 20000

# The module, not the class of the same name that pyqtgraph.exporters re-exports.
_SVG_MODULE = importlib.import_module("pyqtgraph.exporters.SVGExporter")
_CLOSEPATH = ("Z", "z")
_CORRECT = "correctCoordinates"  # the SVG exporter's function that fails on them


class ExportError(SaveError):
    """A screenshot could not be written; the message names the path and the reason."""


def _write_atomically(path: Path, write: Callable[[str], None]) -> None:
    write_atomically(path, write, ExportError)


def window_image(widget: QWidget) -> QImage:
    """The widget as it looks now, for "Copy screenshot" to the clipboard."""
    QApplication.processEvents()  # a freshly shown widget is laid out first
    return widget.grab().toImage()


def export_window(widget: QWidget, path: Path, width: int | None = None) -> None:
    """PNG of the whole widget; ``width`` in pixels scales it smoothly, keeping the aspect."""
    path = _checked_target(Path(path), "window", width)
    QApplication.processEvents()
    pixmap = widget.grab()
    if pixmap.isNull():
        raise ExportError(f"Cannot save {path}: the window has no size yet.")
    if width is not None:
        pixmap = pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
    _write_atomically(path, lambda temporary: _write_bytes(temporary, _png(pixmap)))


def rendered(stack: PlotStack, width: int | None = None) -> QImage:
    """The plots drawn at ``width`` pixels (by default their size in device pixels): a copy
    of the stack with lines, symbols and legends grown by the same ratio renders its scene
    scaled, text and axes with it. The stack on screen is not touched."""
    live = stack.graphics()
    source = live.mapToScene(live.viewport().rect()).boundingRect()
    ratio = live.devicePixelRatioF() if width is None else width / source.width()
    with _copy_of(stack, PlotLook(ratio, cached=False)) as twin:
        # Wide antialiased pens stroke slowly: off-scale noise is cut away first.
        twin.clip_to_views()
        graphics = twin.graphics()
        source = graphics.mapToScene(graphics.viewport().rect()).boundingRect()
        image = QImage(
            max(1, round(source.width() * ratio)),
            max(1, round(source.height() * ratio)),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.fill(graphics.backgroundBrush().color())
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        try:
            graphics.scene().render(painter, QRectF(image.rect()), source)
        finally:
            painter.end()
    return image


@contextlib.contextmanager
def _copy_of(stack: PlotStack, look: PlotLook) -> Iterator[PlotStack]:
    """A copy of ``stack`` drawn with ``look`` for the duration (see PlotStack.copy)."""
    twin = stack.copy(look)
    try:
        yield twin
    finally:
        twin.close()
        twin.deleteLater()


def export_plots(stack: PlotStack, path: Path, width: int | None = None) -> None:
    """The three plots as .png (``width`` in pixels; by default the on-screen size in
    device pixels), .svg (``width`` sets the display width; the drawing stays vector) or
    .pdf, each rendered from a copy of the stack."""
    path = _checked_target(Path(path), "plots", width)
    QApplication.processEvents()  # an unlaid-out scene exports at size 0
    suffix = path.suffix.lower()
    if suffix == ".svg":
        with _copy_of(stack, PlotLook(cached=False)) as twin:
            twin.clip_to_views()
            scene = twin.graphics().scene()
            _write_atomically(path, lambda temporary: _write_svg(scene, temporary, width))
    elif suffix == ".pdf":
        with _copy_of(stack, PlotLook(cached=False)) as twin:
            data = _pdf(twin.graphics())
        _write_atomically(path, lambda temporary: _write_bytes(temporary, data))
    else:
        image = rendered(stack, width)
        _write_atomically(path, lambda temporary: _write_bytes(temporary, _png(image)))


def _pdf(widget: QWidget) -> bytes:
    """The widget as a one-page vector PDF. The writer's resolution is the screen's, so one
    device unit is one widget pixel and fonts and pens come out as on screen; the page is
    the widget's size at that resolution."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    dpi = widget.logicalDpiX()
    writer.setResolution(dpi)
    points = QSizeF(widget.width() * 72 / dpi, widget.height() * 72 / dpi)
    writer.setPageSize(QPageSize(points, QPageSize.Unit.Point))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    painter = QPainter(writer)
    try:
        widget.render(painter)
    finally:
        painter.end()
    buffer.close()
    if data.isEmpty():
        raise OSError("Qt could not write the PDF")
    return data.data()


def _png(image: QImage | QPixmap) -> bytes:
    """The image encoded as PNG in memory."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("Qt could not encode the PNG image")
    buffer.close()
    return data.data()


def _write_bytes(temporary: str, data: bytes) -> None:
    with open(temporary, "wb") as handle:
        handle.write(data)


def _write_svg(scene: QGraphicsScene, temporary: str, width: int | None) -> None:
    """Render the scene through pyqtgraph's SVGExporter; an explicit width becomes the
    document's display size, the viewBox keeps the on-screen coordinates."""
    exporter = pyqtgraph.exporters.SVGExporter(scene)
    with _svg_closepath_workaround():
        data = exporter.export(toBytes=True)
    if width is not None:
        logical_width = exporter.parameters()["width"]
        logical_height = exporter.parameters()["height"]
        document = xml.dom.minidom.parseString(data)
        root = document.documentElement
        if root is None:
            raise OSError("pyqtgraph wrote an SVG without a root element")
        root.setAttribute("width", str(width))
        root.setAttribute("height", str(round(width * logical_height / logical_width)))
        data = document.toxml(encoding="UTF-8")
    _write_bytes(temporary, data)


def _checked_target(path: Path, kind: str, width: int | None) -> Path:
    """Reject a bad width, extension or folder before anything is rendered."""
    if width is not None and (
        isinstance(width, bool) or not isinstance(width, int) or not 0 < width <= MAX_WIDTH
    ):
        raise ExportError(
            f"Cannot save {path}: the width must be a whole number of pixels "
            f"from 1 to {MAX_WIDTH}, not {width!r}."
        )
    allowed = SUPPORTED[kind]
    if path.suffix.lower() not in allowed:
        found = f"'{path.suffix}'" if path.suffix else "no extension"
        raise ExportError(
            f"Cannot save {path}: {kind} screenshots are saved as "
            f"{' or '.join(allowed)}, and this name has {found}."
        )
    try:
        check_target(path)
    except SaveError as error:
        raise ExportError(str(error)) from None
    return path


# --------------------------------------------------------------------------- SVG
# pyqtgraph 0.14.0's SVGExporter.correctCoordinates reads every token of a
# <path d="..."> as "x,y". Recent Qt (6.11 here) QSvgGenerator closes paths with a bare
# "Z", so every plot fails with "ValueError: not enough values to unpack"
# (pyqtgraph issues #3495 and #3485; an upstream fix is proposed in pull request #3458).
# While an SVG export runs, the close-path tokens are taken out of each path
# before the original function transforms the coordinates and put back at the
# same positions afterwards. The patch is only installed when the installed
# pyqtgraph actually fails on a closed path, and only for the duration of one export.


@functools.cache
def _svg_needs_closepath_fix() -> bool:
    """Whether the installed pyqtgraph's correctCoordinates fails on a closed path."""
    probe = xml.dom.minidom.parseString('<g><g><path d="M0,0 L1,0 L1,1 Z"/></g></g>')
    try:
        getattr(_SVG_MODULE, _CORRECT)(probe.documentElement, [], None, {})
    except ValueError:
        return True
    return False


@contextlib.contextmanager
def _svg_closepath_workaround() -> Iterator[None]:
    """Wrap pyqtgraph's correctCoordinates for one SVG export, if it needs it."""
    if not _svg_needs_closepath_fix():
        yield
        return
    original = getattr(_SVG_MODULE, _CORRECT)

    def correct_coordinates(node: Any, defs: Any, item: Any, options: Any) -> None:
        removed = _remove_closepath(node)
        original(node, defs, item, options)
        _restore_closepath(removed)

    setattr(_SVG_MODULE, _CORRECT, correct_coordinates)
    try:
        yield
    finally:
        setattr(_SVG_MODULE, _CORRECT, original)


def _remove_closepath(node: Any) -> list[tuple[Any, list[tuple[int, str]]]]:
    """Strip "Z"/"z" tokens from every path below ``node``; return, per path, each token
    with the number of coordinate tokens before it (what the original keeps one to one)."""
    removed = []
    for path in node.getElementsByTagName("path"):
        kept: list[str] = []
        marks: list[tuple[int, str]] = []
        for token in path.getAttribute("d").split():
            if token in _CLOSEPATH:
                marks.append((len(kept), token))
            else:
                kept.append(token)
        if marks:
            path.setAttribute("d", " ".join(kept))
            removed.append((path, marks))
    return removed


def _restore_closepath(removed: list[tuple[Any, list[tuple[int, str]]]]) -> None:
    """Put the close-path tokens back after the transformed coordinates they followed."""
    for path, marks in removed:
        tokens = path.getAttribute("d").split()
        for position, token in reversed(marks):
            tokens.insert(position, token)
        path.setAttribute("d", " ".join(tokens))
