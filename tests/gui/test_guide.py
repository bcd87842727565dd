"""Help > Guide: the glossary the window's words point to, rendered from resources/."""

from __future__ import annotations

from PyQt6.QtCore import QUrl
from PyQt6.QtGui import QTextDocument
from spec import PATH_NAMES

from gradviz.core.problem.quantity import QUANTITY
from gradviz.gui.guide import GuideDialog, guide_html

# Every term the window shows (issue 9), each with an anchor tooltips can point to.
TERMS = {
    "reference": "Reference",
    "ball": "Ball arithmetic",
    "undetermined": "Undetermined",
    "jitter-limit": "Jitter limit",
    "jitter": "Jitter",
    "correct-digits": "Correct digits",
    "digits-carried": "Digits carried",
    "cond": "cond(K)",
    "keys": "Keyboard and mouse",
    "paths": "The paths",
    "quantities": "Quantities",
}


def plain(html_text: str) -> str:
    document = QTextDocument()
    document.setHtml(html_text)
    return document.toPlainText()


def test_the_guide_defines_every_term_and_describes_every_path(qapp) -> None:
    html_text = guide_html()
    text = plain(html_text)
    for anchor, title in TERMS.items():
        assert f'id="{anchor}"' in html_text, anchor
        assert title in text, title
    for path in PATH_NAMES:
        assert path in text
    for quantity in QUANTITY.values():  # each quantity in one line
        assert f"{quantity.name}\n{quantity.help}" in text, quantity.name
    assert "<!--" not in html_text.split("<body>", 1)[1]  # every marker was filled in


def test_a_topic_scrolls_to_its_term_and_the_top_comes_back(qtbot) -> None:
    dialog = GuideDialog()
    qtbot.addWidget(dialog)
    dialog.resize(600, 300)
    dialog.show_topic("spread")
    qtbot.waitExposed(dialog)
    bar = dialog.browser.verticalScrollBar()
    assert bar.value() > 0
    deep = bar.value()
    dialog.show_topic("reading")
    assert bar.value() < deep
    dialog.show_topic()
    assert bar.value() == 0
    found = dialog.browser.loadResource(
        QTextDocument.ResourceType.ImageResource.value, QUrl("screenshot.png")
    )
    assert found  # the illustration is found next to the guide
