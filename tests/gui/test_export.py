"""Screenshots: right size, valid files, and nothing left behind when they fail."""

from __future__ import annotations

import dataclasses
import errno
import importlib
import math
import os
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
import pytest
from conftest import Feed
from PyQt6.QtGui import QColor, QImage, QPainter
from PyQt6.QtSvg import QSvgRenderer
from PyQt6.QtWidgets import QApplication, QWidget
from records import Records
from spec import DTYPES, legend_item, xy

from gradviz.gui import export as export_module
from gradviz.gui import style
from gradviz.gui.export import (
    SUPPORTED,
    ExportError,
    export_plots,
    export_window,
    window_image,
)
from gradviz.gui.plots import PlotStack

SVG = "{http://www.w3.org/2000/svg}"


def distinct_colors(image: QImage) -> int:
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(rgb.constBits().asstring(rgb.sizeInBytes()), dtype=np.uint32)
    return int(np.unique(raw).size)


def assert_only(folder: Path, *names: str) -> None:
    """Nothing but ``names`` in the folder: no temporary or partial files."""
    assert sorted(os.listdir(folder)) == sorted(names)


# ------------------------------------------------------------------- valid files
def test_supported_formats() -> None:
    assert SUPPORTED == {"window": (".png",), "plots": (".png", ".svg", ".pdf")}


def test_window_png_has_the_requested_width(stack: PlotStack, tmp_path: Path) -> None:
    target = tmp_path / "window.png"
    export_window(stack, target, width=640)
    image = QImage(str(target))
    assert image.width() == 640
    assert image.height() == pytest.approx(640 * stack.height() / stack.width(), abs=1)
    assert distinct_colors(image) > 50
    assert_only(tmp_path, "window.png")


def test_window_png_defaults_to_device_pixels(stack: PlotStack, tmp_path: Path) -> None:
    target = tmp_path / "window.png"
    export_window(stack, target)
    assert QImage(str(target)).width() == round(stack.width() * stack.devicePixelRatioF())


def test_window_image_for_the_clipboard(stack: PlotStack) -> None:
    image = window_image(stack)
    assert not image.isNull()
    assert distinct_colors(image) > 50


@pytest.mark.parametrize("width", [None, 1234])
def test_plots_png(stack: PlotStack, tmp_path: Path, width: int | None) -> None:
    target = tmp_path / "plots.png"
    export_plots(stack, target, width=width)
    image = QImage(str(target))
    graphics = stack.graphics()
    expected = width or round(graphics.width() * graphics.devicePixelRatioF())
    assert image.width() == expected
    assert distinct_colors(image) > 50
    assert_only(tmp_path, "plots.png")


@pytest.mark.parametrize("width", [None, 1600])
def test_plots_svg_parses_and_has_the_curves(
    stack: PlotStack, tmp_path: Path, width: int | None
) -> None:
    target = tmp_path / "plots.svg"
    export_plots(stack, target, width=width)
    root = ET.parse(target).getroot()
    paths = root.findall(f".//{SVG}path")
    assert len(paths) > 20
    text = target.read_text(encoding="utf-8").lower()
    for color in (*style.DTYPE_COLORS.values(), style.REFERENCE_COLOR):
        assert color.lower() in text
    # Closed paths (Qt writes "Z") survive the pyqtgraph workaround.
    assert any(path.get("d", "").rstrip().endswith("Z") for path in paths)
    if width is not None:
        assert root.get("width") == str(width)
    assert_only(tmp_path, "plots.svg")


def test_svg_workaround_is_not_left_installed(stack: PlotStack, tmp_path: Path) -> None:
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    before = module.correctCoordinates
    export_plots(stack, tmp_path / "plots.svg")
    assert module.correctCoordinates is before


def test_export_replaces_an_existing_file(stack: PlotStack, tmp_path: Path) -> None:
    target = tmp_path / "plots.png"
    target.write_bytes(b"old")
    target.chmod(0o640)
    export_plots(stack, target, width=300)
    assert QImage(str(target)).width() == 300
    assert target.stat().st_mode & 0o777 == 0o640
    assert_only(tmp_path, "plots.png")


def test_an_export_goes_through_a_device_and_a_symlink_and_fails_on_a_full_one(
    stack: PlotStack, tmp_path: Path
) -> None:
    """As root, os.replace onto a device node made it a regular file."""
    node, full = tmp_path / "null.png", tmp_path / "full.png"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # and /dev/full
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    export_plots(stack, node, width=300)
    assert stat.S_ISCHR(node.stat().st_mode)
    real, link = tmp_path / "real.png", tmp_path / "link.png"
    link.symlink_to(real)
    export_window(stack, link, width=200)
    assert link.is_symlink() and QImage(str(real)).width() == 200
    with pytest.raises(ExportError, match="no space left on device"):
        export_plots(stack, full)
    assert stat.S_ISCHR(full.stat().st_mode)
    assert_only(tmp_path, "full.png", "link.png", "null.png", "real.png")


# --------------------------------------------------------------------- rejected
@pytest.mark.parametrize(
    ("kind", "name"),
    [("window", "shot.svg"), ("window", "shot.jpg"), ("plots", "plots.eps"), ("plots", "plots")],
)
def test_unsupported_extension(stack: PlotStack, tmp_path: Path, kind: str, name: str) -> None:
    export = export_window if kind == "window" else export_plots
    with pytest.raises(ExportError, match=r"saved as \.png"):
        export(stack, tmp_path / name)
    assert_only(tmp_path)


@pytest.mark.parametrize("width", [0, -5, 20001, 3.5, True])
def test_invalid_width(stack: PlotStack, tmp_path: Path, width: Any) -> None:
    for export, name in (
        (export_window, "w.png"),
        (export_plots, "p.png"),
        (export_plots, "p.svg"),
    ):
        with pytest.raises(ExportError, match="width"):
            export(stack, tmp_path / name, width=width)
    assert_only(tmp_path)


def test_missing_folder(stack: PlotStack, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "plots.png"
    with pytest.raises(ExportError, match="does not exist") as raised:
        export_plots(stack, target)
    assert str(target) in str(raised.value)
    assert_only(tmp_path)


def test_directory_as_target(stack: PlotStack, tmp_path: Path) -> None:
    folder = tmp_path / "shots.png"
    folder.mkdir()
    with pytest.raises(ExportError, match="folder"):
        export_window(stack, folder)
    assert_only(tmp_path, "shots.png")
    assert_only(folder)


def test_read_only_folder(stack: PlotStack, tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes")
        with pytest.raises(ExportError, match="locked"):
            export_plots(stack, folder / "plots.svg")
        assert_only(folder)
    finally:
        folder.chmod(0o700)


def test_no_permission_to_create_files(
    stack: PlotStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusal as a read-only folder, also where the tests run as root."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(ExportError, match="permission denied") as raised:
        export_window(stack, tmp_path / "window.png")
    assert str(tmp_path) in str(raised.value)
    assert_only(tmp_path)


def test_unlaid_out_widget_is_still_exported(qtbot, tmp_path: Path) -> None:
    """processEvents() before grabbing: a widget shown just now has its size."""
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(320, 200)
    widget.show()
    export_window(widget, tmp_path / "fresh.png")
    assert QImage(str(tmp_path / "fresh.png")).width() >= 320


# ------------------------------------------------------------- failure midway
def _disk_full_after_partial_write(folder: Path) -> Any:
    """An exporter that writes half a file into the temporary file, then fails."""

    def export(*args: Any, **kwargs: Any) -> Any:
        (temporary,) = [name for name in os.listdir(folder) if name.startswith(".")]
        (folder / temporary).write_bytes(b"<svg partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    return export


@pytest.mark.parametrize(
    "case",
    [
        (export_module, "_write_bytes", "plots.png"),
        (export_module, "_write_bytes", "plots.pdf"),
        (pyqtgraph.exporters.SVGExporter, "export", "plots.svg"),
    ],
)
def test_failure_while_writing_leaves_the_old_file(
    stack: PlotStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: tuple[Any, str, str]
) -> None:
    owner, attribute, name = case
    target = tmp_path / name
    target.write_bytes(b"previous screenshot")
    monkeypatch.setattr(owner, attribute, _disk_full_after_partial_write(tmp_path))
    with pytest.raises(ExportError, match="no space left on device") as raised:
        export_plots(stack, target)
    assert str(target) in str(raised.value)
    assert target.read_bytes() == b"previous screenshot"
    assert_only(tmp_path, name)


def test_exporter_that_writes_nothing(
    stack: PlotStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pyqtgraph.exporters.SVGExporter, "export", lambda self, **kw: b"")
    with pytest.raises(ExportError, match="nothing was written"):
        export_plots(stack, tmp_path / "plots.svg")
    assert_only(tmp_path)


# ------------------------------------------------------------- hostile names
@pytest.mark.parametrize(
    ("kind", "raw"),
    [("window", b"caf\xe9 \xff.png"), ("plots", b"caf\xe9 \xff.png")],
)
def test_a_name_that_is_not_utf8_is_written_under_that_name(
    stack: PlotStack, tmp_path: Path, kind: str, raw: bytes
) -> None:
    """Qt would write such a name re-encoded, beside the temporary gradviz cleans up."""
    target = tmp_path / os.fsdecode(raw)
    (export_window if kind == "window" else export_plots)(stack, target)
    assert os.listdir(os.fsencode(tmp_path)) == [raw]
    assert os.path.getsize(target) > 1000


def test_a_246_character_name_is_exported(stack: PlotStack, tmp_path: Path) -> None:
    name = "w" * 242 + ".png"
    export_window(stack, tmp_path / name)
    assert_only(tmp_path, name)


def ink(image: QImage) -> int:
    """Pixels clearly off the white background: text, lines, markers."""
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    rows = pixels.reshape(image.height(), image.bytesPerLine())[:, : image.width()]
    return int((rows < 240).sum())


def test_a_wide_png_scales_text_and_lines_with_the_image(stack: PlotStack, tmp_path: Path) -> None:
    """At three times the width, every glyph, curve and legend is three times larger, so
    the ink grows towards ninefold (grid lines stay hairlines); pyqtgraph's exporter,
    with screen-sized text and cosmetic pens, grew it 2.6-fold here."""
    graphics = stack.graphics()
    small, large = tmp_path / "small.png", tmp_path / "large.png"
    export_plots(stack, small, width=graphics.width())
    export_plots(stack, large, width=3 * graphics.width())
    ratio = ink(QImage(str(large))) / ink(QImage(str(small)))
    assert 4.0 < ratio < 10.0


def test_plots_pdf_is_one_vector_page_the_size_of_the_plots(
    stack: PlotStack, tmp_path: Path
) -> None:
    target = tmp_path / "plots.pdf"
    export_plots(stack, target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    graphics = stack.graphics()
    points = 72 / graphics.logicalDpiX()  # one widget pixel per device unit, as on screen
    width, height = graphics.width() * points, graphics.height() * points
    # Qt writes the page in whole points (qRound): 781 px at 96 dpi is 585.75 pt, page 586.
    width, height = math.floor(width + 0.5), math.floor(height + 0.5)
    assert f"/MediaBox [0 0 {width:.6f} {height:.6f}]".encode() in data
    assert len(data) < 2_000_000  # vector: no page-sized bitmap
    assert_only(tmp_path, "plots.pdf")


def noise_above_the_titles(image: QImage, stack: PlotStack) -> int:
    """Pixels in a dtype's colour in the band above the top plot's area (its title)."""
    top = stack.plot_items()[0]
    graphics = stack.graphics()
    band = graphics.mapFromScene(top.vb.sceneBoundingRect().topLeft()).y()
    scale = image.width() / graphics.width()
    found = 0
    colours = [QColor(c) for c in style.DTYPE_COLORS.values()]
    for y in range(0, max(0, int(band * scale) - 2), 2):
        for x in range(0, image.width(), 3):
            pixel = image.pixelColor(x, y)
            if any(abs(pixel.red() - c.red()) + abs(pixel.green() - c.green())
                   + abs(pixel.blue() - c.blue()) < 60 for c in colours):  # fmt: skip
                found += 1
    return found


@pytest.fixture
def noisy(stack: PlotStack, records: Records, feed: Feed) -> PlotStack:
    """The seed's picture: float32 and float64 far off-scale around a truth near 1."""
    grad = {d: records.curves.grad[d] * 1e4 * np.cos(40 * records.curves.x) for d in DTYPES}
    mu = {d: records.curves.mu[d] * 1e4 * np.sin(40 * records.curves.x) for d in DTYPES}
    feed.curves(dataclasses.replace(records.curves, grad=grad, mu=mu))
    QApplication.processEvents()
    return stack


def test_svg_needs_no_clip_paths_qt_draws_nothing_over_the_titles(
    noisy: PlotStack, tmp_path: Path
) -> None:
    target = tmp_path / "plots.svg"
    export_plots(noisy, target)
    renderer = QSvgRenderer(str(target))
    assert renderer.isValid()
    image = QImage(noisy.graphics().size(), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    assert noise_above_the_titles(image, noisy) == 0
    grads = xy(legend_item(noisy.plot_items()[1], "d mu/dx float32"))[1]
    assert np.abs(grads).max() > 1e3  # the on-screen data is back after the export


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="librsvg2-bin not installed")
def test_svg_renders_alike_in_librsvg(noisy: PlotStack, tmp_path: Path) -> None:
    target = tmp_path / "plots.svg"
    export_plots(noisy, target)
    png = tmp_path / "rsvg.png"
    subprocess.run(["rsvg-convert", "-o", str(png), str(target)], check=True, timeout=60)
    image = QImage(str(png))
    assert image.width() == noisy.graphics().width()
    assert noise_above_the_titles(image, noisy) == 0


def _live_state(stack: PlotStack) -> list[object]:
    """What an export could change on screen: every item's data, pen and symbol size, and
    every legend's scale and entries."""
    state: list[object] = []
    for plot in stack.plot_items():
        state.append((plot.legend.scale(), [label.text for _, label in plot.legend.items]))
        for item in plot.items:
            if isinstance(item, (pg.PlotDataItem, pg.ScatterPlotItem)):
                x, y = item.getData()
                state.append((None if x is None else np.asarray(x).tobytes(),
                              None if y is None else np.asarray(y).tobytes()))  # fmt: skip
            if isinstance(item, pg.PlotDataItem):
                state.append((pg.mkPen(item.opts["pen"]).widthF(), item.opts["symbolSize"]))
            if isinstance(item, pg.ScatterPlotItem):
                state.append(item.opts["size"])
            if isinstance(item, pg.InfiniteLine):
                state.append((item.pen.widthF(), float(item.value())))
    return state


@pytest.mark.parametrize(("name", "width"), [("wide.png", 3000), ("plots.svg", None)])
def test_an_export_renders_a_copy_and_leaves_the_live_items_unchanged(
    noisy: PlotStack, tmp_path: Path, name: str, width: int | None
) -> None:
    """No flicker, nothing to put back on failure: exporting never touches what is on
    screen (a wide PNG widens pens and legends, an SVG clips the curves: on a copy)."""
    before = _live_state(noisy)
    changed: list[object] = []
    for plot in noisy.plot_items():
        for item in plot.items:
            if isinstance(item, pg.PlotDataItem):
                item.sigPlotChanged.connect(changed.append)
    export_plots(noisy, tmp_path / name, width)
    assert changed == []
    assert _live_state(noisy) == before
    assert (tmp_path / name).stat().st_size > 1000
