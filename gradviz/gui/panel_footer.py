"""The panel's footer: the reference, cond(K + jitter I), the digits carried, the spread
and the verdict of each dtype, in wrapped rich text.

Wrapped paragraphs cost a relayout of the side column (3.9 ms measured) whenever their
text changes. A report renders them at once, later ones at most every FOOTER_INTERVAL_MS;
while the probe is dragged they stay as they were, greyed, and follow on release (the
reference, the spread and the verdicts wait for the release anyway).
"""

from __future__ import annotations

import html
import math
import time

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QFont, QFontInfo
from PyQt6.QtWidgets import QLabel, QVBoxLayout

from gradviz.core.io.report import condition_line, reference_words, verdict_words
from gradviz.core.numerics.results import (
    DTYPES,
    SPREAD_CONFIDENCE,
    SPREAD_PROBABILITY,
    ProbeReport,
)
from gradviz.core.problem.spec import Problem
from gradviz.gui import style
from gradviz.gui.model import AdviceState
from gradviz.gui.panel_table import PLACEHOLDER
from gradviz.gui.panel_text import advised_points, answer_text, mono_numbers, spread_text

FOOTER_INTERVAL_MS = 150
ADVISED_LINK = "advised:"  # the href of an advised configuration, then its index
GLOSSARY_TIP = (
    "The answer in one paragraph, from the numbers below. "
    "Every term is in Help > Guide (F1), Glossary."
)


def footer_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


SPREAD_TIP = (
    "What equivalent programs print (the problem perturbed by one unit roundoff), and the "
    "significant digits that spread leaves: they hold with probability "
    f"{SPREAD_PROBABILITY:.0%} at confidence {SPREAD_CONFIDENCE:.0%} (the significantdigits "
    "library, stochastic arithmetic under its Centered Normality Hypothesis). Spread: see "
    "Help > Guide (F1), Glossary"
)


class Footer(QObject):
    """The answer label (placed above the table by the panel) and the footer's labels in
    ``column``; :meth:`show_report` renders them at most every FOOTER_INTERVAL_MS. Each
    advised configuration named in the answer is a link; a click emits ``point_chosen``
    (jitter, solver)."""

    point_chosen = pyqtSignal(float, str)
    rendered = pyqtSignal()  # the answer now describes answer_x() (or it is held)

    def __init__(self, mono: QFont, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._mono = mono
        self._report: ProbeReport | None = None
        self._shown: ProbeReport | None = None  # the report the answer was rendered from
        self._stale = False
        self._advice: AdviceState | None = None
        self._held = False
        self._rendered_at = -math.inf  # monotonic
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FOOTER_INTERVAL_MS)
        self._timer.timeout.connect(self._on_due)
        self.answer = footer_label("answer")
        self.answer.setToolTip(GLOSSARY_TIP)
        self.answer.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.answer.linkActivated.connect(self._on_link_activated)
        self.reference = footer_label("reference")
        self.condition = footer_label("condition")
        self.carried = footer_label("carried")
        self.spreads = {dtype: footer_label(f"spread_{dtype}") for dtype in DTYPES}
        self.verdicts = {dtype: footer_label(f"verdict_{dtype}") for dtype in DTYPES}
        tips = {
            self.reference: "reference, ball arithmetic, undetermined and jitter limit",
            self.condition: "cond(K)",
            self.carried: "digits carried",
            **dict.fromkeys(self.spreads.values(), "spread"),
            **dict.fromkeys(self.verdicts.values(), "correct digits and cond(K)"),
        }
        for label, terms in tips.items():
            label.setToolTip(f"{terms}: see Help > Guide (F1), Glossary")
        for label in self.spreads.values():
            label.setToolTip(SPREAD_TIP)
        self.column = QVBoxLayout()
        self.column.setSpacing(3)
        self.column.setContentsMargins(2, 0, 2, 0)
        for label in (self.reference, self.condition, self.carried):
            self.column.addWidget(label)
        self.column.addSpacing(4)
        for label in (*self.spreads.values(), *self.verdicts.values()):
            self.column.addWidget(label)

    def show_report(
        self, report: ProbeReport | None, stale: bool, advice: AdviceState | None = None
    ) -> None:
        """Render now, or at the end of the interval when the last render was recent, or
        on release while held."""
        self._report, self._stale, self._advice = report, stale, advice
        if self._held:
            return
        now = time.monotonic()
        if now - self._rendered_at >= FOOTER_INTERVAL_MS / 1000:
            self._timer.stop()
            self._rendered_at = now
            self._render()
        elif not self._timer.isActive():
            self._timer.start()

    def hold(self, held: bool) -> None:
        """Keep the paragraphs as they are, greyed (a drag began), or render the latest
        report again (it ended)."""
        if held == self._held:
            return
        self._held = held
        self._timer.stop()
        stale, self._stale = self._stale, held or self._stale
        self._on_due()
        self._stale = stale

    def answer_is_for(self, problem: Problem, x: float) -> bool:
        """Whether the answer shown describes ``problem`` at ``x``, current and not held."""
        shown = self._shown
        return (
            shown is not None
            and not self._held
            and not self._stale
            and (shown.result.problem, shown.result.x) == (problem, x)
        )

    def _on_link_activated(self, link: str) -> None:
        """An advised configuration in the answer was clicked: ask for it."""
        points = list(advised_points(self._advice).values())
        index = int(link.removeprefix(ADVISED_LINK)) if link.startswith(ADVISED_LINK) else -1
        if 0 <= index < len(points):
            solver, jitter = points[index]
            self.point_chosen.emit(jitter, solver)

    def flush(self) -> None:
        """Render a footer still waiting for its interval now (before a screenshot, or for
        a reader that must see the latest words)."""
        if self._timer.isActive():
            self._timer.stop()
            self._on_due()

    def _on_due(self) -> None:
        self._rendered_at = time.monotonic()
        self._render()

    def _labels(self) -> tuple[QLabel, ...]:
        return (
            self.reference,
            self.condition,
            self.carried,
            self.answer,
            *self.spreads.values(),
            *self.verdicts.values(),
        )

    def _render(self) -> None:
        self._render_labels()
        self._shown = self._report
        self.rendered.emit()

    def _render_labels(self) -> None:
        report = self._report
        muted = style.muted_text()
        if report is None:
            for label in self._labels():
                label.setText("")
            self.reference.setText(f"<span style='color:{muted}'>reference: {PLACEHOLDER}</span>")
            return
        opening, closing = ("<i>", "</i>") if self._stale else ("", "")
        swatch = f"<span style='color:{style.REFERENCE_COLOR}'>■</span>"
        if report.reference is None:
            note = html.escape(report.reference_note or "reference: pending")
            reference = f"{swatch} <i style='color:{muted}'>{note}</i>"
        else:
            joint, words = reference_words(report.reference, report.result.problem.measured)
            family = QFontInfo(self._mono).family()
            lines = [mono_numbers(html.escape(line), family) for line in words]
            head = f"<span style='color:{style.REFERENCE_COLOR}'><b>reference</b></span>"
            lines[0] = head + html.escape(joint) + lines[0]
            reference = f"{swatch} " + "<br>&nbsp;&nbsp;&nbsp;".join(lines)
        self.reference.setText(opening + reference + closing)
        self.condition.setText(opening + html.escape(condition_line(report.diagnosis)) + closing)
        carried = report.diagnosis.carried_digits
        parts = [
            f"<span style='color:{style.DTYPE_COLORS[dtype]}'>{dtype}</span> {carried[dtype]:.1f}"
            for dtype in DTYPES
            if dtype in carried
        ]
        self.carried.setText(f"digits carried (-log10 eps): {', '.join(parts)}")
        answer = html.escape(answer_text(report, self._advice))
        for index, named in enumerate(advised_points(self._advice)):
            link = f"<a href='{ADVISED_LINK}{index}'>{html.escape(named)}</a>"
            answer = answer.replace(html.escape(named), link)
        self.answer.setText(f"{opening}{answer}{closing}")
        for dtype, label in self.spreads.items():
            spread = html.escape(spread_text(report.result.spread, dtype, report.result.problem.n))
            label.setText(
                f"{opening}<b style='color:{style.DTYPE_COLORS[dtype]}'>{dtype}:</b> "
                f"{spread}{closing}"
            )
        for dtype, label in self.verdicts.items():
            verdict = report.diagnosis.verdicts.get(dtype)
            body = "" if verdict is None else html.escape(verdict_words(verdict))
            label.setText(
                f"{opening}<b style='color:{style.DTYPE_COLORS[dtype]}'>{dtype}:</b> "
                f"{body}{closing}"
            )
