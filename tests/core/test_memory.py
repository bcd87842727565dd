"""The memory check: a problem too large for this machine is refused up front, naming n,
the value and the largest n that fits (checked here against estimated_bytes itself)."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradviz.core.problem import data
from gradviz.core.problem.data import available_bytes, check_fits_memory, estimated_bytes
from gradviz.core.problem.spec import N_RANGE, Problem, ProblemError


def largest_fitting(available: int) -> int:
    """The largest n (from the bottom of n's range) whose estimate is at most ``available``,
    found by walking estimated_bytes itself rather than by the formula."""
    n = N_RANGE[0]
    while n < N_RANGE[1] and estimated_bytes(Problem(n=n + 1)) <= available:
        n += 1
    return n


def refusal(problem: Problem, available: int) -> ProblemError:
    with pytest.raises(ProblemError) as info:
        check_fits_memory(problem, available=available)
    return info.value


@pytest.mark.parametrize("n", [2, 10, 300, 1000, 2500])
def test_estimate_grows_as_n_squared(n: int) -> None:
    small, double = estimated_bytes(Problem(n=n)), estimated_bytes(Problem(n=2 * n))
    assert small > 0 and isinstance(small, int)
    assert double == 4 * small


def test_estimate_depends_on_n_only() -> None:
    base = estimated_bytes(Problem(n=300))
    others = [
        Problem(n=300, jitter=1e-6, solver="cholesky"),
        Problem(n=300, domain=(-1.0, 1.0), length_scale=0.1, seed=7, mean=-3.0),
    ]
    assert all(estimated_bytes(problem) == base for problem in others)


def test_seed_problem_estimate_is_plausible() -> None:
    # 300 x 300 float64 is 0.7 MB; the estimate covers several copies across the processes,
    # yet stays far below a gigabyte.
    assert 300 * 300 * 8 * 3 <= estimated_bytes(Problem()) < 2**30


def test_enough_memory_passes() -> None:
    problem = Problem(n=1000)
    assert check_fits_memory(problem, available=estimated_bytes(problem)) is None
    assert check_fits_memory(problem, available=10**15) is None
    assert check_fits_memory(Problem(n=5000), available=estimated_bytes(Problem(n=5000))) is None


@pytest.mark.parametrize(
    ("n", "available"),
    [
        (1000, estimated_bytes(Problem(n=1000)) - 1),
        (5000, 2**30),
        (5000, 4 * 2**30),
        (2000, 2**28),
        (300, 10**7),
        (3000, estimated_bytes(Problem(n=2999))),
    ],
)
def test_too_little_memory_names_n_and_the_largest_that_fits(n: int, available: int) -> None:
    error = refusal(Problem(n=n), available)
    message = str(error)
    k = largest_fitting(available)
    assert k < n
    assert estimated_bytes(Problem(n=k)) <= available < estimated_bytes(Problem(n=k + 1))
    assert error.field == "n" and error.value == n
    assert message.startswith(f"n: {n} is not allowed")
    assert f"at most {k} " in message, (k, message)
    assert "GiB" in message
    gib = re.findall(r"([\d.]+) GiB", message)
    assert [float(v) for v in gib] == pytest.approx(
        [estimated_bytes(Problem(n=n)) / 2**30, available / 2**30], abs=0.051
    )


def test_the_boundary_is_exact() -> None:
    problem = Problem(n=1234)
    need = estimated_bytes(problem)
    check_fits_memory(problem, available=need)
    assert f"at most {1233} " in str(refusal(problem, need - 1))


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(N_RANGE[0], N_RANGE[1]),
    available=st.integers(estimated_bytes(Problem(n=2)), estimated_bytes(Problem(n=5000))),
)
def test_the_largest_n_named_really_is_the_largest_that_fits(n: int, available: int) -> None:
    problem = Problem(n=n)
    if estimated_bytes(problem) <= available:
        check_fits_memory(problem, available=available)
        return
    message = str(refusal(problem, available))
    k = int(re.search(r"at most (\d+) ", message).group(1))  # type: ignore[union-attr]
    assert estimated_bytes(Problem(n=k)) <= available < estimated_bytes(Problem(n=k + 1))
    check_fits_memory(Problem(n=k), available=available)  # and it is accepted


def test_default_reads_what_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "available_bytes", lambda: 2**30)
    check_fits_memory(Problem(n=2000))
    assert "at most" in str(refusal_default(Problem(n=5000)))
    monkeypatch.setattr(data, "available_bytes", lambda: None)
    check_fits_memory(Problem(n=5000))  # unknown: nothing is refused


def refusal_default(problem: Problem) -> ProblemError:
    with pytest.raises(ProblemError) as info:
        check_fits_memory(problem)
    return info.value


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/meminfo").exists(),
    reason="reads /proc/meminfo",
)
def test_available_bytes_on_linux() -> None:
    available = available_bytes()
    assert isinstance(available, int) and not isinstance(available, bool)
    assert available > 0
    total = next(
        int(line.split()[1]) * 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    assert available <= total
    assert math.log2(available) > 20  # more than a megabyte, or no test could run


def test_available_bytes_without_meminfo(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(data, "open", missing, raising=False)  # shadows the builtin there
    assert available_bytes() is None
