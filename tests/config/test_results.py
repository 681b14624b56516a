"""The results files' models: round trips, refused files, and the schemas in docs/."""

from __future__ import annotations

from pathlib import Path

import pytest

from multiclass_segmentation.commands.results_schema import SCHEMAS_FOLDER, main, schema_texts
from multiclass_segmentation.config.results import (
    Metrics,
    Robustness,
    StudyResults,
    read_results_file,
)
from multiclass_segmentation.errors import BadInputError

ROOT = Path(__file__).resolve().parents[2]


def entry(test_mdice: float | None) -> dict:
    return {
        "val_mdice": 0.8,
        "val_fg_mdice": 0.7,
        "test_mdice": test_mdice,
        "test_fg_mdice": None,
        "test_miou": 0.6,
        "test_dice": {"background": 0.9, "cat": None},
        "val_dice": {"background": 0.9, "cat": 0.5},
        "epochs_run": None,
        "evaluated_at": "2026-01-02T03:04:05+00:00",
    }


RESULTS = {
    "schema_version": 1,
    "hypotheses": {
        "base": {**entry(0.85), "robustness": {"summary": {"test": {"mpc": 0.5}}, "external": {}}},
        "other": entry(None),
    },
    "best_model": "base",
    "best_selected_by": "val_mdice",
    "best_mdice": 0.85,
    "target_mdice": 0.75,
    "target_achieved": True,
}
SCORES = {"mdice": 0.8, "fg_mdice": 0.7, "miou": 0.6, "dice": {"cat": 0.7}, "images": 3}
METRICS = {
    "schema_version": 1,
    "hypothesis": "base",
    "evaluated_at": "2026-01-02T03:04:05+00:00",
    "model": {"best_epoch": 2},
    "tta": {"hflip": True, "scales": [1.0]},
    "target_mdice": 0.75,
    "val": SCORES,
    "test": {**SCORES, "per_image_dice": [{"id": "a", "dice": None}]},
}
ROBUSTNESS = {
    "schema_version": 1,
    "hypothesis": "base",
    "evaluated_at": "2026-01-02T03:04:05+00:00",
    "model": {},
    "tta": {"hflip": False, "scales": [1.0]},
    "sampling": "rotate",
    "severities": 3,
    "summary": {"test": {"families": {"noise": {"1": 0.5}}}},
    "views": {"test": {"closeup_50": {"mdice": 0.4}}},
    "external": {},
}


@pytest.mark.parametrize(
    ("model", "data"), [(StudyResults, RESULTS), (Metrics, METRICS), (Robustness, ROBUSTNESS)]
)
def test_a_results_file_round_trips_with_the_same_keys_and_values(model, data):
    assert read_results_file(model, data, "f.json").to_json() == data


def test_keys_the_file_lacks_stay_absent_and_a_file_before_the_schema_is_version_1():
    study_only = {"study": {"runs": {}}}
    assert read_results_file(StudyResults, study_only, "f.json").to_json() == {
        "schema_version": 1,
        "study": {"runs": {}},
    }
    without_version = {key: value for key, value in METRICS.items() if key != "schema_version"}
    assert read_results_file(Metrics, without_version, "f.json").to_json() == METRICS


def test_a_newer_schema_version_is_refused_naming_the_file():
    with pytest.raises(BadInputError, match=r"^data/results\.json .*schema_version 2 is not"):
        read_results_file(StudyResults, {**RESULTS, "schema_version": 2}, "data/results.json")


def test_a_file_of_the_wrong_shape_is_refused_naming_the_file_and_the_keys():
    wrong = {**RESULTS, "hypotheses": {"base": {**entry(0.8), "test_mdice": "high"}}}
    with pytest.raises(BadInputError, match=r"r\.json .*hypotheses\.base\.test_mdice"):
        read_results_file(StudyResults, wrong, "r.json")
    with pytest.raises(BadInputError, match=r"m\.json .*val: Field required"):
        read_results_file(Metrics, {k: v for k, v in METRICS.items() if k != "val"}, "m.json")
    with pytest.raises(BadInputError, match="unknown_key: Extra inputs are not permitted"):
        read_results_file(Robustness, {**ROBUSTNESS, "unknown_key": 1}, "x.json")


def test_the_json_schemas_in_docs_are_those_of_the_models():
    for name, text in schema_texts().items():
        committed = ROOT / SCHEMAS_FOLDER / name
        assert committed.read_text(encoding="utf-8") == text, (
            f"{committed} is stale: run `make schemas`"
        )


def test_the_command_writes_one_schema_per_results_file(tmp_path: Path):
    written = main(["--output", str(tmp_path)])
    assert sorted(p.name for p in written) == [
        "metrics.schema.json",
        "results.schema.json",
        "robustness.schema.json",
    ]
    assert '"schema_version"' in (tmp_path / "results.schema.json").read_text()
