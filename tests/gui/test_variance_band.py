"""The variance band on the mean's plot (issue 20): mu +/- 2 sqrt(var) per dtype, a
checkable View entry that turns it off and is remembered, and negative variance marked where the
arithmetic made it so, never hidden. Records from ``records.py``; no TensorFlow."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from conftest import FAST, Feed, Lab
from PyQt6.QtGui import QAction
from records import Records

from gradviz.core.numerics.results import DTYPES
from gradviz.gui.plot_items import PlotLook
from gradviz.gui.plots import PlotStack

NEGATIVE_AT = (10, 11, 150)  # curve indices given a negative float32 variance


def band_box(stack: PlotStack) -> QAction:
    """View > Variance band."""
    return stack.band_action


def with_negative_float32(records: Records) -> Records:
    """The records with the float32 variance below 0 at NEGATIVE_AT (the worker sends
    what float32 computed; a wrong sign is one of the most reported GP failures)."""
    variance = dict(records.curves.variance)
    f32 = variance["float32"].copy()
    f32[list(NEGATIVE_AT)] = [-3e-7, -1e-2, -5e-5]
    variance["float32"] = f32
    return dataclasses.replace(
        records, curves=dataclasses.replace(records.curves, variance=variance)
    )


def test_the_band_is_mu_plus_minus_two_standard_deviations_per_dtype(
    stack: PlotStack, records: Records
) -> None:
    curves = records.curves
    assert band_box(stack).isChecked() and band_box(stack).isEnabled()
    for dtype in DTYPES:
        x, upper, lower = stack.band.edges(dtype)
        mu, var = curves.mu[dtype], curves.variance[dtype]
        np.testing.assert_array_equal(x, curves.x)
        positive = var >= 0
        # Written out: mu +- 2 sqrt(var) where var >= 0, a gap elsewhere.
        np.testing.assert_allclose(upper[positive], mu[positive] + 2 * np.sqrt(var[positive]))
        np.testing.assert_allclose(lower[positive], mu[positive] - 2 * np.sqrt(var[positive]))
        assert np.isnan(upper[~positive]).all() and np.isnan(lower[~positive]).all()


def test_negative_float32_variance_is_marked_not_hidden(
    stack: PlotStack, feed: Feed, records: Records
) -> None:
    bad = with_negative_float32(records)
    feed.curves(bad.curves)
    curves = bad.curves
    negative = np.flatnonzero(curves.variance["float32"] < 0)
    assert set(NEGATIVE_AT) <= set(negative)
    np.testing.assert_array_equal(stack.band.negative_x("float32"), curves.x[negative])
    _, upper, _ = stack.band.edges("float32")
    assert np.isnan(upper[list(NEGATIVE_AT)]).all()  # the gap the marks explain
    text = stack.band.legend_text()
    assert text.startswith("negative var: float32 at ") and f" {len(negative)} x" in text
    # Each mark is a tick along the bottom of the view; its tooltip gives x and var.
    marks = {round(spot.pos().x(), 12): spot for spot in stack.band.negative.points()}
    spot = marks[round(float(curves.x[11]), 12)]
    _, (y_lo, y_hi) = stack.plot_items()[0].vb.viewRange()
    assert y_lo < spot.pos().y() < y_lo + 0.1 * (y_hi - y_lo)
    assert spot.data() == ("float32", curves.x[11], -1e-2)
    # Zoomed, the ticks stay at the bottom edge of what is shown.
    stack.plot_items()[0].setYRange(-10.0, 10.0, padding=0)
    spot = next(iter(stack.band.negative.points()))
    assert -10.0 < spot.pos().y() < -8.0
    # Turning the band off keeps the marks: a negative variance is never silent.
    band_box(stack).setChecked(False)
    assert stack.band.edges("float32")[0].size == 0
    np.testing.assert_array_equal(stack.band.negative_x("float32"), curves.x[negative])


def test_no_negative_variance_says_none(stack: PlotStack, feed: Feed, records: Records) -> None:
    variance = {dtype: np.abs(v) for dtype, v in records.curves.variance.items()}
    feed.curves(dataclasses.replace(records.curves, variance=variance))
    assert stack.band.legend_text() == "negative var: none"
    assert all(stack.band.negative_x(dtype).size == 0 for dtype in DTYPES)


def test_the_band_checkbox_is_remembered(qtbot, open_lab: Callable[..., Lab]) -> None:
    lab = open_lab()
    lab.settle(qtbot)
    box = band_box(lab.window.plots)
    assert box.isChecked() and lab.settings.band()
    box.trigger()
    assert not lab.window.plots.band_shown() and not lab.settings.band()
    assert lab.window.plots.band.edges("float64")[0].size == 0
    lab.window.close()
    again = open_lab()
    again.settle(qtbot)
    assert not band_box(again.window.plots).isChecked()
    assert again.window.plots.band.edges("float64")[0].size == 0


def test_exports_draw_the_band_as_shown(stack: PlotStack) -> None:
    twin = stack.copy(PlotLook())
    assert twin.band.edges("float32")[0].size > 0
    stack.set_band_shown(False)
    twin = stack.copy(PlotLook())
    assert twin.band.edges("float32")[0].size == 0


def test_variance_slope_marks_negative_var_on_its_own_curve(
    qtbot, open_lab: Callable[..., Lab]
) -> None:
    lab = open_lab(FAST.replace(quantity="variance-slope"))
    lab.settle(qtbot)
    plots = lab.window.plots
    assert not band_box(plots).isEnabled()  # the band is drawn around mu, not var
    curves = lab.model.results.curves
    assert curves is not None
    for dtype in DTYPES:
        assert plots.band.edges(dtype)[0].size == 0
        negative = curves.variance[dtype] < 0
        np.testing.assert_array_equal(plots.band.negative_x(dtype), curves.x[negative])
    assert plots.band.legend_text().startswith("negative var: ")


def test_an_lml_quantity_has_no_band_and_no_entry(qtbot, open_lab: Callable[..., Lab]) -> None:
    problem = FAST.replace(quantity="lml-lengthscale")
    lab = open_lab(problem, x=problem.default_x)
    lab.settle(qtbot)
    plots = lab.window.plots
    assert not band_box(plots).isEnabled()
    assert plots.band.legend_text() == ""
    assert all(plots.band.edges(dtype)[0].size == 0 for dtype in DTYPES)
