"""The probe marker: one movable vertical line per plot, kept in sync by value.

``InfiniteLine.sigPositionChanged`` fires for drags, for ``setValue`` and repeatedly at a
bound, so every handler deduplicates on ``float(line.value())``. Where the user puts the
marker (a drag, a double-click in a plot) is a request (``x_requested``); the marker then
follows the model's x (:meth:`ProbeMarker.show`). ``drag_changed`` says when a drag of
it begins and ends; a hand that rests on the marker for RESTING_MS ends it too (the work
that waited for the drag then runs for the x shown), and the next move begins another.

The lines stand in view coordinates (log10 theta for an LML quantity, see
:class:`~gradviz.gui.probe_axis.ProbeAxis`); requests and :meth:`ProbeMarker.show` speak
probes (x or theta), and the label names the axis.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PyQt6.QtCore import QObject, QPointF, Qt, QTimer, pyqtSignal

from gradviz.core.problem.spec import Problem
from gradviz.gui.plot_items import PlotLook, with_alpha
from gradviz.gui.probe_axis import ProbeAxis

RESTING_MS = 1000
# A dragged line that moved less than this share of the visible width did not move: it is
# pyqtgraph's round trip of the cursor through the line's own transform (~1e-16 of x),
# which would otherwise compute the probe again ~1e-15 away on release, and on the seed's
# K (cond ~1e20) show other numbers. A mouse moves by a pixel, ~1e-3 of the width.
SAME_SPOT = 1e-9


class _ProbeLabel:
    """What the labelled line says: ``x = 2.000`` or ``l = 1.5`` (pyqtgraph's line label
    calls ``format(value=...)`` with the line's view coordinate)."""

    def __init__(self, axis: ProbeAxis) -> None:
        self.axis = axis

    def format(self, value: float) -> str:
        t = self.axis.probe(value)
        return f"{self.axis.symbol} = {t:.4g}" if self.axis.log else f"x = {t:.3f}"


class ProbeMarker(QObject):
    """The lines of ``plots`` (the top one labelled with x) on ``scene``."""

    x_requested = pyqtSignal(float)
    drag_changed = pyqtSignal(bool)

    def __init__(self, plots: tuple[Any, ...], scene: Any, x: float, look: PlotLook) -> None:
        super().__init__()
        self._plots, self._look = plots, look
        self._x = x
        self._axis = ProbeAxis.of(Problem())
        self._dragging = False
        self._resetting = False
        self._resting = QTimer(self)
        self._resting.setSingleShot(True)
        self._resting.setInterval(RESTING_MS)
        self._resting.timeout.connect(self.end_drag)
        self.lines = tuple(
            self._line(plot, labelled=index == 0) for index, plot in enumerate(plots)
        )
        scene.sigMouseClicked.connect(self._on_scene_clicked)
        self._skip_hover_while_dragging(scene)

    def _line(self, plot: Any, labelled: bool) -> Any:
        line = pg.InfiniteLine(
            pos=self._x, angle=90, movable=True, label="x" if labelled else None,
            # Low on the line: the legends sit in the top-left corners.
            labelOpts={"position": 0.07, "anchors": [(-0.05, 0.5), (-0.05, 0.5)]},
        )  # fmt: skip
        if labelled:
            line.label.format = _ProbeLabel(self._axis)
        line.setZValue(50)
        plot.addItem(line, ignoreBounds=True)
        line.sigPositionChanged.connect(self._on_line_moved)
        line.sigPositionChangeFinished.connect(self._on_line_released)
        return line

    def _skip_hover_while_dragging(self, scene: Any) -> None:
        """pyqtgraph's scene looks for the items under the cursor on every mouse move, a
        drag included, although no item may take the hover then: 1.2 ms of every drag
        step here (measured). While the marker is dragged that search is skipped."""
        send_hover = scene.sendHoverEvents

        def hover_unless_dragging(event: Any, exitOnly: bool = False) -> None:  # noqa: N803
            if not self._dragging or exitOnly:
                send_hover(event, exitOnly)

        scene.sendHoverEvents = hover_unless_dragging

    @property
    def x(self) -> float:
        """Where the marker is (inside the domain)."""
        return self._x

    def show(self, x: float) -> None:
        """Move every line to the probe ``x`` without a request (on a log axis the line's
        log10 does not always come back as the same probe: it is not read back)."""
        self._x = x
        view = self._axis.view(x)
        resetting, self._resetting = self._resetting, True
        try:
            for line in self.lines:
                if float(line.value()) != view:
                    line.setValue(view)
        finally:
            self._resetting = resetting

    def reset(self, axis: ProbeAxis, x: float) -> None:
        """A new axis or domain: the lines' bounds and label, then ``x`` (setBounds
        re-clamps the lines, which is not the user's move)."""
        self._axis = axis
        self._resetting = True
        try:
            for line in self.lines:
                line.setBounds(axis.view_domain)
            self.show(x)
            label = self.lines[0].label
            label.format = _ProbeLabel(axis)
            label.valueChanged()
        finally:
            self._resetting = False

    def apply_palette(self, foreground: Any, background: Any) -> None:
        marker_pen = self._look.pen(with_alpha(foreground, 150), 1.5)
        for line in self.lines:
            line.setPen(marker_pen)
            line.setHoverPen(self._look.pen(foreground, 3))
        label = self.lines[0].label
        label.setColor(foreground)
        label.fill = pg.mkBrush(with_alpha(background, 200))  # TextItem has no setter
        label.update()

    def _request(self, view: float) -> None:
        """The probe at the view coordinate ``view``, clamped to the domain."""
        value = self._axis.clamped(self._axis.probe(view))
        if value != self._x:
            self.show(value)
            self.x_requested.emit(value)

    def end_drag(self) -> None:
        """The drag is over (released, the hand rests, or the plots were hidden)."""
        self._resting.stop()
        if self._dragging:
            self._dragging = False
            self.drag_changed.emit(False)

    def _on_line_moved(self, line: Any) -> None:
        if self._resetting:
            return
        value = float(line.value())
        if line.moving:
            self._resting.start()
            if not self._dragging:
                self._dragging = True
                self.drag_changed.emit(True)
            x_lo, x_hi = self._plots[0].vb.viewRange()[0]
            if abs(value - self._x) <= SAME_SPOT * (x_hi - x_lo):
                self._resetting = True
                try:
                    self.show(self._x)  # the line stays exactly where the probe is
                finally:
                    self._resetting = False
                return
        self._request(value)

    def _on_line_released(self, _line: Any) -> None:
        self.end_drag()

    def _on_scene_clicked(self, event: Any) -> None:
        """A left double-click in any plot moves the probe there (clamped to the domain)."""
        if not event.double() or event.button() != Qt.MouseButton.LeftButton:
            return
        position: QPointF = event.scenePos()
        for plot in self._plots:
            if plot.vb.sceneBoundingRect().contains(position):
                self._request(plot.vb.mapSceneToView(position).x())
                event.accept()
                return
