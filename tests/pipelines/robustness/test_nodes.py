"""Robustness nodes on hand-made data: external sets validated and scored, results.json."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.data_validation import DataValidationParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.config.robustness import RobustnessParams
from multiclass_segmentation.errors import BadInputError, MissingInputError
from multiclass_segmentation.pipelines.robustness.nodes import (
    check_external_sets,
    inspect_external_sets,
    record_robustness,
    score_robustness,
)
from tests.pipelines.inference.builders import tiny_segmenter

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("gray", "orange", "blue")
)
VALIDATION = DataValidationParams(report_path="data/08_reporting/data_validation.md")


def external_set(root, pairs: dict[str, tuple[tuple[int, int], np.ndarray | None]]):
    """img/<name>.png of each size and, where given, labels/<name>.png holding the mask."""
    (root / "img").mkdir(parents=True)
    (root / "labels").mkdir()
    for name, (size, mask) in pairs.items():
        Image.fromarray(np.full((*size, 3), 128, np.uint8)).save(root / "img" / f"{name}.png")
        if mask is not None:
            Image.fromarray(mask).save(root / "labels" / f"{name}.png")
    return root


def checked(root) -> dict:
    evaluation = EvaluationParams(external_sets={"pets": str(root)}, num_workers=0)
    report, sets = inspect_external_sets(evaluation, CLASSES, VALIDATION)
    return check_external_sets(report, sets, VALIDATION)


def test_an_external_set_is_scored_at_each_images_own_size(tmp_path):
    # wide: 20 x 30, a 10 x 10 cat, the rest background, one ignored row of 30;
    # square: 16 x 16, all dog.
    wide = np.zeros((20, 30), np.uint8)
    wide[5:15, 5:15] = 1
    wide[19] = 255
    square = np.full((16, 16), 2, np.uint8)
    root = external_set(tmp_path / "pets", {"wide": ((20, 30), wide), "square": ((16, 16), square)})
    sets = checked(root)
    assert sets["pets"]["manifest"]["image"].tolist() == ["img/square.png", "img/wide.png"]

    robustness = score_robustness(
        tiny_segmenter("cat everywhere", constant_class=1),
        pd.DataFrame(
            columns=["split", "view", "family", "level", "corruption", "id", "image", "mask"]
        ),
        sets,
        {"hypothesis": "base", "val": {"mdice": 0.5}, "test": {"mdice": 0.5}},
        CLASSES,
        EvaluationParams(num_workers=0),
        RobustnessParams(cache_dir=str(tmp_path / "views"), corruptions={}),
    )

    pets = robustness["external"]["pets"]
    # Everything is predicted cat. Truth: 100 cat, 600 - 100 - 30 = 470 background, 256 dog.
    # Dice: background 0, cat 2*100 / (100 + 826) = 200/926, dog 0.
    assert pets["images"] == 2
    assert pets["dice"]["cat"] == pytest.approx(200 / 926)
    assert pets["mdice"] == pytest.approx(200 / 926 / 3)
    assert pets["support"] == {"background": 470, "cat": 100, "dog": 256}


@pytest.mark.parametrize(
    ("problem", "check"),
    [
        ("missing label", "image_without_mask"),
        ("wrong mask size", "mask_size_mismatch"),
        ("corrupt file", "unreadable_file"),
    ],
)
def test_a_broken_external_set_gets_the_validations_message(tmp_path, problem, check):
    good = np.zeros((8, 8), np.uint8)
    bad_mask = {"missing label": None, "wrong mask size": np.zeros((4, 4), np.uint8)}.get(
        problem, good
    )
    root = external_set(tmp_path / "pets", {"a": ((8, 8), good), "b": ((8, 8), bad_mask)})
    if problem == "corrupt file":
        (root / "img" / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")

    with pytest.raises(BadInputError) as raised:
        checked(root)

    message = str(raised.value)
    assert message.startswith(
        f"evaluation.external_sets.pets: Data validation of the dataset at '{root}'"
    )
    assert f"  - {check}: " in message and "img/b.png" in message
    assert "data/08_reporting/external_sets_validation.json" in message


def test_a_missing_external_folder_names_its_parameter(tmp_path):
    with pytest.raises(
        MissingInputError, match=r"evaluation.external_sets.pets: .* no img or labels"
    ):
        checked(tmp_path / "nowhere")


def _entry(test_mdice: float) -> dict:
    """results.json's entry of a hypothesis that evaluation wrote."""
    return {
        "val_mdice": 0.75,
        "val_fg_mdice": 0.7,
        "test_mdice": test_mdice,
        "test_fg_mdice": 0.6,
        "test_miou": 0.5,
        "test_dice": {"background": 0.9},
        "val_dice": {"background": 0.9},
        "epochs_run": 3,
        "evaluated_at": "2026-01-02T03:04:05+00:00",
    }


def test_results_json_gains_the_robustness_of_the_evaluated_hypothesis():
    results = {"hypotheses": {"base": _entry(0.8), "other": _entry(0.7)}}
    robustness = {
        "hypothesis": "base",
        "summary": {"test": {"mpc": 0.6, "views": {}}},
        "external": {
            "pets": {"images": 2, "mdice": 0.5, "fg_mdice": 0.4, "dice": {}, "per_image_dice": []}
        },
    }

    recorded = record_robustness(results, robustness)

    assert recorded["schema_version"] == 1
    assert recorded["hypotheses"]["other"] == _entry(0.7)
    entry = recorded["hypotheses"]["base"]
    assert entry["test_mdice"] == 0.8
    assert entry["robustness"]["summary"]["test"]["mpc"] == 0.6
    assert entry["robustness"]["external"]["pets"] == {
        "images": 2,
        "mdice": 0.5,
        "fg_mdice": 0.4,
        "dice": {},
    }
    with pytest.raises(BadInputError, match="no entry for base"):
        record_robustness({"hypotheses": {}}, robustness)
