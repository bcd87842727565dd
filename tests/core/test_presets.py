"""Presets: the shipped file loads into the documented problems; broken files fail loudly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gradviz.core.io.data_file import load_data
from gradviz.core.io.presets import Preset, load_presets
from gradviz.core.problem.spec import Problem
from gradviz.resources import resource_path

EXPECTED = {
    "Stack Overflow 51006474 (the seed)": Problem(),
    "GPflow default (cholesky, jitter 1e-6)": Problem(jitter=1e-6, solver="cholesky"),
    "GPyTorch float64 (cholesky, 1e-8)": Problem(jitter=1e-8, solver="cholesky"),
    "scikit-learn (cholesky, alpha 1e-10)": Problem(jitter=1e-10, solver="cholesky"),
    "Well conditioned (n 40, cholesky, 1e-6)": Problem(n=40, jitter=1e-6, solver="cholesky"),
    "Mauna Loa CO2 (264 months 1980-2001, matern52, l 0.5 years, jitter 1e-3)": Problem(
        kernel="matern52", length_scale=0.5, jitter=1e-3, solver="cholesky"
    ).replace(
        points=load_data(resource_path("co2_mauna_loa.csv"))[0],
        y=load_data(resource_path("co2_mauna_loa.csv"))[1],
    ),
}


def test_shipped_presets() -> None:
    presets = load_presets()
    assert all(isinstance(preset, Preset) for preset in presets)
    assert {preset.name: preset.problem for preset in presets} == EXPECTED
    assert presets[0].name.startswith("Stack Overflow")


def test_presets_are_frozen_and_hashable() -> None:
    preset = load_presets()[0]
    with pytest.raises(AttributeError):
        preset.name = "other"  # type: ignore[misc]
    assert hash(preset) == hash(Preset(preset.name, Problem()))


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "presets.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_domain_list_becomes_tuple(tmp_path: Path) -> None:
    path = write(tmp_path, [{"name": "shifted", "problem": {"domain": [0, 10], "n": 50}}])
    (preset,) = load_presets(path)
    assert preset.problem.domain == (0.0, 10.0)
    assert preset.problem == Problem(domain=(0.0, 10.0), n=50)


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ([{"name": "bad n", "problem": {"n": 1}}], "preset 'bad n': n: 1"),
        ([{"name": "bad jitter", "problem": {"jitter": -1}}], "preset 'bad jitter': jitter"),
        ([{"name": "bad domain", "problem": {"domain": [1, 1]}}], "preset 'bad domain': domain"),
        ([{"name": "typo", "problem": {"jiter": 1e-6}}], "preset 'typo'.*jiter"),
        ([{"name": "not a dict", "problem": [1, 2]}], "preset 'not a dict'"),
        ([{"problem": {}}], "preset #0: needs a non-empty string 'name'"),
        ([{"name": "twice"}, {"name": "twice"}], "duplicate preset names"),
        ({"name": "not a list"}, "expected a JSON list"),
    ],
)
def test_broken_files_raise_value_error(tmp_path: Path, document: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_presets(write(tmp_path, document))


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "presets.json"
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(ValueError, match=r"presets\.json: not valid JSON"):
        load_presets(path)


def test_a_preset_can_bring_the_mauna_loa_data(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [{"name": "CO2", "data": "co2_mauna_loa.csv", "problem": {"kernel": "matern52"}}],
    )
    (preset,) = load_presets(path)
    problem = preset.problem
    assert problem.from_file and problem.n == 264 and problem.kernel == "matern52"
    x, y = problem.points.array, problem.y.array  # type: ignore[union-attr]
    assert np.allclose(np.diff(x), 1 / 12) and x[0] == 0.5 / 12
    assert abs(y.mean()) < 1e-6 and abs(y.std() - 1) < 1e-6  # standardised
    assert y[-12:].mean() - y[:12].mean() > 3  # 2001 is ~34 ppm (3.4 sd) above 1980


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("../presets.json", "must name a file of resources/"),
        (3, "must name a file"),
        ("missing.csv", "not found"),
        ("guide.html", "Cannot read data"),
    ],
)
def test_a_preset_with_bad_data_names_the_preset(tmp_path: Path, data: object, words: str) -> None:
    path = write(tmp_path, [{"name": "bad", "data": data}])
    with pytest.raises(ValueError, match="preset 'bad'") as info:
        load_presets(path)
    assert words in str(info.value)
