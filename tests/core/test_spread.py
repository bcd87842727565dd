"""The spread of equivalent programs: copies perturbed by one unit roundoff.

Its statistics are checked against numpy and scipy written out here (the significant
digits: the stochastic-arithmetic formula of Sohier et al. 2021, which gradviz takes from
the significantdigits library); its meaning (an estimate of
the correct digits without a reference) against the ball-arithmetic reference on
well-conditioned problems, where the estimate (a bound that holds with probability 95 %)
claims no more digits than are correct and at most 2.5 fewer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from gradviz.core.analysis.diagnosis import correct_digits
from gradviz.core.numerics.paths import spread_of
from gradviz.core.numerics.probe import ProbeEngine
from gradviz.core.numerics.reference import ReferenceSolver
from gradviz.core.numerics.results import SPREAD_CONFIDENCE, SPREAD_PROBABILITY
from gradviz.core.problem.data import problem_data
from gradviz.core.problem.spec import Problem

WELL_CONDITIONED = [
    Problem(n=40, jitter=1e-6, solver="cholesky"),
    Problem(n=60, length_scale=0.3, domain=(0.0, 10.0), seed=3, mean=-2.0),
    Problem(n=200, jitter=1e-4, solver="inverse"),
    Problem(n=100, length_scale=0.5, jitter=1e-8, solver="solve"),
]
XS = (-3.3, -1.1, 0.7, 2.0, 3.4, 4.1)


def test_spread_statistics_are_those_of_the_finite_copies() -> None:
    rng = np.random.default_rng(5)
    values = -0.73 + 1e-4 * rng.normal(size=16)
    values[[2, 9]] = [np.nan, np.inf]
    spread = spread_of(values)
    finite = values[np.isfinite(values)]
    assert spread is not None and spread.samples == 14
    assert (spread.grad_min, spread.grad_max) == (finite.min(), finite.max())
    std = math.sqrt(sum((v - finite.mean()) ** 2 for v in finite) / (len(finite) - 1))
    assert spread.grad_std == pytest.approx(std, rel=1e-12)
    assert spread.significant_digits == pytest.approx(cnh_digits(finite), rel=1e-9)
    # The confidence costs digits: never more than the plain -log10(std / |mean|).
    assert spread.significant_digits < -math.log10(std / abs(finite.mean()))


def cnh_bits_lost(samples: int) -> float:
    """Bits the Centered Normality Hypothesis withholds for ``samples`` copies at the
    spread's probability and confidence (Sohier et al. 2021, eq. for s_CNH)."""
    chi2_low = scipy.stats.chi2.ppf((1 - SPREAD_CONFIDENCE) / 2, samples - 1)
    quantile = scipy.stats.norm.ppf((SPREAD_PROBABILITY + 1) / 2)
    return 0.5 * math.log2((samples - 1) / chi2_low) + math.log2(quantile)


def cnh_digits(copies: np.ndarray) -> float:
    """The significant digits of ``copies`` about their mean, written out: the relative
    deviations' population standard deviation, less the bits the sample cannot vouch for."""
    relative = copies / copies.mean() - 1
    return (-math.log2(relative.std()) - cnh_bits_lost(copies.size)) * math.log10(2)


def test_identical_copies_carry_every_digit_and_too_few_copies_give_none() -> None:
    same = spread_of(np.full(16, 2.5))
    assert same is not None and same.grad_std == 0.0
    # Every bit a float64 stores after the leading one, less what 16 samples cannot vouch for.
    assert same.significant_digits == pytest.approx((52 - cnh_bits_lost(16)) * math.log10(2))
    assert spread_of(np.array([1.0, np.nan, np.nan])) is None
    wild = spread_of(np.array([-500.0, 600.0, 3.0, -80.0]))
    assert wild is not None and wild.significant_digits == 0.0  # clamped, never negative


@pytest.mark.timeout(240)
def test_spread_digits_estimate_the_correct_digits_on_well_conditioned_problems() -> None:
    engine = ProbeEngine()
    gaps = []
    for problem in WELL_CONDITIONED:
        data = problem_data(problem)
        solver = ReferenceSolver(data)
        for x in XS:
            reference = solver.evaluate(x)
            assert reference.status == "exact" and reference.grad is not None
            result = engine.probe(data, x)
            for dtype in ("float32", "float64"):
                spread = result.spread[dtype]
                digits = correct_digits(result.cell("function", dtype).grad, reference.grad)
                if spread is None or digits is None:
                    continue
                if spread.significant_digits > 2 and digits > 2:
                    gaps.append(spread.significant_digits - digits)
    # With probability 95 % the estimate holds: it claims no more digits than are correct
    # (measured here: 31 of 31 at or below, median 0.75 below, the worst 2.07 below).
    assert len(gaps) >= 30
    assert max(gaps) <= 0.5
    assert float(np.median(np.abs(gaps))) <= 1.0
    assert min(gaps) >= -2.5


def test_the_seed_spread_reproduces_the_askers_symptom() -> None:
    """cond(K) ~ 1e20: one-ulp perturbations print gradients hundreds apart in both dtypes."""
    result = ProbeEngine().probe(problem_data(Problem()), 2.0)
    for dtype in ("float32", "float64"):
        spread = result.spread[dtype]
        assert spread is not None and spread.samples >= 8
        assert spread.grad_max - spread.grad_min > 10.0
        assert spread.significant_digits < 1.0


def test_without_spread_the_probe_has_none() -> None:
    result = ProbeEngine().probe(problem_data(WELL_CONDITIONED[0]), 2.0, spread=False)
    assert result.spread == {}


def test_the_spread_over_x_matches_the_spread_at_each_x() -> None:
    problem = WELL_CONDITIONED[1]
    data = problem_data(problem)
    engine = ProbeEngine()
    xs = np.array(XS)
    curves = engine.curves(data, xs)
    for i, x in enumerate(XS):
        result = engine.probe(data, x)
        for dtype in ("float32", "float64"):
            spread = result.spread[dtype]
            assert spread is not None
            # A batched product rounds each copy's gradient a little differently in
            # float32 than one x alone: the estimate agrees, not its last bits.
            assert curves.spread_digits[dtype][i] == pytest.approx(
                spread.significant_digits, abs=1e-3
            )
