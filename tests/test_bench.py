"""``python -m gradviz.bench``: a quick run reports every section with every figure, and the
table prints every key. No timing is asserted: the machine is shared and noisy."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from gradviz import bench

REQUIRED: dict[str, set[str]] = {
    "probe": {
        "p50_ms",
        "p99_ms",
        "with_spread_p50_ms",
        "with_spread_p99_ms",
        "naive_p50_ms",
        "speedup",
        "dtype_mode",
    },
    "drag": {"max_stall_ms", "slow_frame_share", "lag_p50_ms", "lag_p99_ms"},
    "startup": {"first_paint_s", "first_panel_s", "complete_panel_s", "tf_import_s"},
    "problem_change": {
        "curves_n300_ms",
        "curves_n2000_ms",
        "reference_jitter_s",
        "reference_undetermined_s",
    },
    "soak": {"rss_growth_mb", "traces_before", "traces_after"},
    "sweep": {"seconds", "first_digits_s", "rows"},
    "stages_n300": {
        "problem_data_s",
        "conditioning_s",
        *(
            f"{dtype}_{stage}_s"
            for dtype in ("float32", "float64")
            for stage in (
                "eager",
                "function",
                "seed",
                "traced",
                "spread",
                "first_probe",
                "probe",
                "spread_at_x",
                "curves",
            )
        ),
        "reference_predicted_s",
        "peak_rss_mb",
    },
}
# Figures that --quick skips on purpose (null); every other required figure is a number.
SKIPPED_WHEN_QUICK = {
    ("problem_change", "curves_n2000_ms"),
    ("problem_change", "reference_undetermined_s"),
    ("startup", "tf_import_s"),
}
TRACES = {"traces_before", "traces_after"}  # tf.function trace counts, per function
TEXT = {"dtype_mode"}  # a sentence: the mode and why


def _strict(name: str) -> Any:
    raise AssertionError(f"non-standard JSON token {name}")


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def quick_run() -> Iterator[subprocess.CompletedProcess[str]]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TF_CPP_MIN_LOG_LEVEL="3")
    yield subprocess.run(
        [sys.executable, "-m", "gradviz.bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=400,
        check=False,
    )


@pytest.mark.timeout(450)
def test_quick_bench_reports_every_figure(quick_run: subprocess.CompletedProcess[str]) -> None:
    assert quick_run.returncode == 0, quick_run.stderr[-3000:]
    results = json.loads(quick_run.stdout, parse_constant=_strict)
    assert isinstance(results, dict)
    assert set(results) == set(REQUIRED)
    for section, keys in REQUIRED.items():
        figures = results[section]
        assert isinstance(figures, dict), section
        assert "error" not in figures, f"{section}: {figures.get('error')}"
        assert keys <= set(figures), (section, keys - set(figures))
        for key, value in figures.items():
            if key in TRACES:
                assert isinstance(value, dict) and value, (section, key, value)
                assert all(is_number(count) and count >= 1 for count in value.values()), value
            elif key in TEXT:
                assert isinstance(value, str) and value, (section, key, value)
            else:
                assert value is None or is_number(value), (section, key, value)
                assert value is None or math.isfinite(value), (section, key, value)
        for key in keys - TRACES - TEXT:
            if (section, key) not in SKIPPED_WHEN_QUICK:
                assert is_number(figures[key]), (section, key, figures[key])


@pytest.mark.timeout(450)
def test_quick_bench_traces_nothing_new_while_soaking(
    quick_run: subprocess.CompletedProcess[str],
) -> None:
    # Not a timing: a tf.function retracing on every probe is a bug, whatever the machine.
    assert quick_run.returncode == 0, quick_run.stderr[-3000:]
    soak = json.loads(quick_run.stdout)["soak"]
    assert soak["traces_after"] == soak["traces_before"]


SAMPLE: dict[str, Any] = {
    "probe": {
        "p50_ms": 0.51234,
        "p99_ms": 1.5,
        "naive_p50_ms": 24.0,
        "speedup": 47.0,
        "probes": 50,
    },
    "drag": {
        "max_stall_ms": 12.3456,
        "slow_frame_share": 0.0,
        "lag_p50_ms": None,
        "lag_p99_ms": 31,
    },
    "startup": {"first_paint_s": 0.48, "first_panel_s": 8.6, "tf_import_s": 2.7},
    "problem_change": {
        "curves_n300_ms": 188.5,
        "curves_n2000_ms": None,
        "reference_jitter_s": 0.55,
        "reference_undetermined_s": None,
    },
    "soak": {"rss_growth_mb": -0.25, "traces_before": {"float32 function": 1}, "traces_after": 2},
    "broken": {"error": "RuntimeError: " + "the window did not complete " * 10},
}


def test_to_table_prints_every_section_and_key() -> None:
    table = bench.to_table(SAMPLE)
    lines = table.splitlines()
    sections = [line for line in lines if line and not line.startswith(" ")]
    assert sections == list(SAMPLE)
    rows = [line for line in lines if line.startswith("  ")]
    assert len(rows) == sum(len(figures) for figures in SAMPLE.values())
    for section, figures in SAMPLE.items():
        start = lines.index(section)
        block = lines[start + 1 : start + 1 + len(figures)]
        assert [row.split()[0] for row in block] == list(figures), section
    # "  key" padded to column 30, then the value.
    text = {row[2:30].rstrip(): row[30:] for row in rows}
    assert all(row[2:30].rstrip() and not row[2:30].startswith(" ") for row in rows)
    assert text["p50_ms"] == "0.512"  # three significant digits
    assert text["lag_p50_ms"] == "n/a"  # None
    assert text["lag_p99_ms"] == "31"
    assert text["rss_growth_mb"] == "-0.25"
    assert text["traces_before"] == "{'float32 function': 1}"
    assert len(text["error"]) <= 60 and text["error"].startswith("RuntimeError:")
    assert text["error"].endswith("[...]")


def test_stage_sizes_keep_the_minutes_of_n5000_for_large() -> None:
    assert bench.stage_sizes(quick=True, large=False) == (300,)
    assert bench.stage_sizes(quick=False, large=False) == (300, 2000)
    assert bench.stage_sizes(quick=False, large=True) == (300, 2000, 5000)


@pytest.mark.parametrize(
    ("cores", "says"), [(1, "1 cores"), (2, "GUI"), (4, "4 cores"), (64, "64")]
)
def test_dtype_mode_names_the_mode_and_why(cores: int, says: str) -> None:
    mode = bench.dtype_mode(cores)
    assert mode.startswith("sequential (") and says in mode


def test_to_table_of_nothing() -> None:
    assert bench.to_table({}) == ""
    assert bench.to_table({"probe": {}}) == "probe"


def test_only_runs_the_named_sections_and_refuses_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []
    fake = {name: (lambda quick, name=name: ran.append(name) or {"ran": 1}) for name in "ab"}
    monkeypatch.setattr(bench, "SECTIONS", fake)
    assert bench.run(True, only=["b"]) == {"b": {"ran": 1}} and ran == ["b"]
    with pytest.raises(SystemExit) as stopped:
        bench.main(["--only", "drag-typo"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "'drag-typo'" in err and "a, b" in err
