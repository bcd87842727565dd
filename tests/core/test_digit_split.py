"""split_correct_digits: the prefix of a printed number holding its correct digits."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradviz.core.io.report import format_value, split_correct_digits


def significant_digits(text: str) -> int:
    """Digits of the mantissa from the first non-zero one on (an independent count)."""
    mantissa = text.lower().split("e")[0] if any(c.isdigit() for c in text) else ""
    digits = "".join(c for c in mantissa if c.isdigit()).lstrip("0")
    return len(digits)


@pytest.mark.parametrize(
    ("text", "digits", "expected"),
    [
        ("-0.72910845360340196", 3.2, ("-0.729", "10845360340196")),
        ("-0.72910845360340196", 1.0, ("-0.7", "2910845360340196")),
        ("-113.925049", 3.9, ("-113.", "925049")),
        ("-113.925049", 4, ("-113.9", "25049")),
        ("-113.925049", 2, ("-11", "3.925049")),
        ("19.5", 2, ("19.", "5")),
        ("19.5", 3, ("19.5", "")),
        ("0.000123", 1, ("0.0001", "23")),
        ("100.5", 2, ("10", "0.5")),
        ("1.5e-07", 1, ("1.", "5e-07")),
        ("1.5e-07", 2, ("1.5e-07", "")),
        ("1.5e-07", 17, ("1.5e-07", "")),
        ("-2.5E+20", 1, ("-2.", "5E+20")),
        ("-364.3", None, ("", "-364.3")),
        ("-364.3", 0.0, ("", "-364.3")),
        ("-364.3", 0.99, ("", "-364.3")),
        ("-364.3", math.nan, ("", "-364.3")),
        ("-364.3", math.inf, ("-364.3", "")),
        ("0", 3, ("0", "")),
        ("nan", 2, ("nan", "")),
        ("error", 5, ("error", "")),
    ],
)
def test_split_examples(text: str, digits: float | None, expected: tuple[str, str]) -> None:
    assert split_correct_digits(text, digits) == expected


@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    dtype=st.sampled_from(["float32", "float64"]),
    digits=st.none() | st.floats(min_value=0, max_value=20),
)
def test_split_properties(value: float, dtype: str, digits: float | None) -> None:
    text = format_value(value, dtype)
    prefix, suffix = split_correct_digits(text, digits)
    assert prefix + suffix == text
    wanted = 0 if digits is None else math.floor(digits)
    available = significant_digits(text)
    assert significant_digits(prefix) == min(wanted, available)
    if suffix:
        # The suffix starts with the first wrong digit or, with no correct digit, is everything.
        assert suffix[0].isdigit() or prefix == ""
    if "e" in text and wanted < available:
        assert "e" in suffix
