"""While the probe marker is dragged, what does not move with the probe is one picture.

Every drag step repaints a strip through the three plots, and Qt asked every item crossing
it for its bounding rectangle and drew it again: the 1000-point curves and the data points
(from their cached pixmaps), the axes and grids, the legends and bands; ~8 ms of the GUI
thread per step here, most of a 16.7 ms frame (py-spy of the drag benchmark). During a
drag those items do not change. :class:`BackdropView` draws a picture of them as its
cached background and makes them fully transparent, which Qt skips without a look at
their geometry; a drag step then paints one blit of the background strip and the items
that follow the probe (the marker, tangents, spread bars, reference, digits markers).

Taking the picture is one full paint (~30 ms here), so it is taken ahead, PRETAKE_MS
after the still items last changed, while nothing else happens; a drag then only swaps it
in. Giving the items back is another full paint: the picture stands in for LINGER_MS
after a release, so that the drags of one gesture (a hand that rests ends a drag, see
plot_marker.py) pay for it once and the release's own work (the answer, the panel) does
not share a frame with it. Qt hands no mouse event to a fully transparent item, so a
press gives the items back first (a legend is clicked as ever). Anything that changes the
picture's items (new curves, a zoom, a resize, the palette) drops the picture at once: the
items come back, and during a drag a new picture is taken once the changes have settled.
Each item's own opacity is put back as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyqtgraph as pg
from PyQt6.QtCore import QRectF, QTimer
from PyQt6.QtGui import QMouseEvent, QPainter, QPixmap
from PyQt6.QtWidgets import QGraphicsItem, QWidget

RETAKE_MS = 150  # after a change during a drag, wait for the burst of changes to end
PRETAKE_MS = 500  # after a change with no drag: the results of a new problem come in bursts
LINGER_MS = 2000


class BackdropView(pg.GraphicsLayoutWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """A GraphicsLayoutWidget that can stand a picture in for its still items.

    ``moving`` lists the items that follow the probe (with their parents and children
    they stay drawn); :meth:`set_dragging` takes the picture and hides the rest, or
    gives them back.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._moving: Callable[[], Iterable[QGraphicsItem]] = tuple
        self._picture: QPixmap | None = None  # the still items as they are now
        self._faded: dict[QGraphicsItem, float] = {}  # standing in: each item's opacity
        self._dragging = False
        self._take_later = QTimer(self)
        self._take_later.setSingleShot(True)
        self._take_later.timeout.connect(self._take_ahead)
        self._linger = QTimer(self)
        self._linger.setSingleShot(True)
        self._linger.setInterval(LINGER_MS)
        self._linger.timeout.connect(self._give_back)

    def follow(self, moving: Callable[[], Iterable[QGraphicsItem]]) -> None:
        """Which items follow the probe (asked each time the picture is taken)."""
        self._moving = moving
        self._later(PRETAKE_MS)

    def set_dragging(self, dragging: bool) -> None:
        self._dragging = dragging
        if dragging:
            self._linger.stop()
            self._stand_in()
        elif self._faded:
            self._linger.start()

    def invalidate(self, *_args: object) -> None:
        """The still items changed: the picture is of the past. They are drawn again, and
        a new picture is taken once the changes have settled."""
        self._picture = None
        self._give_back()
        self._later(RETAKE_MS if self._dragging else PRETAKE_MS)

    def has_picture(self) -> bool:
        """Whether a picture of the still items as they are now is at hand."""
        return self._picture is not None

    def is_pictured(self) -> bool:
        """Whether the still items are standing in as a picture now."""
        return bool(self._faded)

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        if not self._dragging:
            self._give_back()
        super().mousePressEvent(event)

    def drawBackground(self, painter: QPainter | None, rect: QRectF) -> None:
        if not self._faded or self._picture is None or painter is None:
            super().drawBackground(painter, rect)
            return
        viewport = self.mapToScene(self.viewport().rect()).boundingRect()
        painter.drawPixmap(viewport, self._picture, QRectF(self._picture.rect()))

    def _later(self, milliseconds: int) -> None:
        self._take_later.start(milliseconds)

    def _take_ahead(self) -> None:
        """Take the picture now (and stand it in during a drag)."""
        if self._dragging:
            self._stand_in()
        elif self._picture is None and self.isVisible():
            self._picture = self._take(self._moving_items())

    def _stand_in(self) -> None:
        if self._faded or not self.isVisible():
            return
        moving = self._moving_items()
        if self._picture is None:
            self._picture = self._take(moving)
        self._faded = {item: item.opacity() for item in _still_roots(self.scene(), moving)}
        for item in self._faded:
            item.setOpacity(0.0)
        self.resetCachedContent()
        self.viewport().update()

    def _take(self, moving: list[QGraphicsItem]) -> QPixmap:
        """The viewport without the ``moving`` items."""
        hidden = {item: item.opacity() for item in moving}
        for item in moving:
            item.setOpacity(0.0)
        try:
            picture: QPixmap = self.viewport().grab()  # a pyqtgraph view is untyped
            return picture
        finally:
            for item, opacity in hidden.items():
                item.setOpacity(opacity)

    def _moving_items(self) -> list[QGraphicsItem]:
        return [item for item in self._moving() if item.scene() is self.scene()]

    def _give_back(self) -> None:
        self._linger.stop()
        if not self._faded:
            return
        for item, opacity in self._faded.items():
            item.setOpacity(opacity)
        self._faded = {}
        self.resetCachedContent()
        self.viewport().update()


def _still_roots(scene: object, moving: list[QGraphicsItem]) -> list[QGraphicsItem]:
    """The largest subtrees of the scene that hold no moving item: every item not on a
    moving item's path to the root, whose parent is on such a path (or the root)."""
    on_path: set[QGraphicsItem] = set()
    for item in moving:
        parent = item.parentItem()
        while parent is not None and parent not in on_path:
            on_path.add(parent)
            parent = parent.parentItem()
    moving_set = set(moving)
    roots = []
    for item in scene.items():  # type: ignore[attr-defined]
        if item in moving_set or item in on_path:
            continue
        parent = item.parentItem()
        if parent is None or parent in on_path:
            roots.append(item)
    return roots
