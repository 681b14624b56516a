"""No stage holds a split's decoded images at once: the data path streams.

Every decoded image and mask comes from ``imaging.rgb_array`` or
``imaging.mask_array``; the counter wraps both and tracks how many of the
arrays they returned are alive at the same time.
"""

from __future__ import annotations

import json
import weakref
from pathlib import Path

import numpy as np
import pytest

from multiclass_segmentation.commands.synthetic import (
    SyntheticDatasetParams,
    write_synthetic_dataset,
)
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.io import imaging
from tests.conftest import copy_project, run_kedro

COUNTS = {"train": 24, "val": 12, "test": 12}
BATCH_SIZE = 2
# Two batches of images and masks (a loader builds the next batch while the loop still holds
# the one before) and the pair being read: 10, far below the 24 arrays of the smallest split.
MOST_ALIVE = 2 * (2 * BATCH_SIZE) + 2
CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("gray", "orange", "blue")
)
# What the earlier stages, which held every decoded pair in memory, wrote for this data set
# (synthetic, counts above, 256 px, seed 0).
EXPECTED_WEIGHTS = [0.141509, 1.433744, 1.424747]
EXPECTED_CHANNEL_MEAN = [134.95437, 123.059099, 123.884569]
EXPECTED_VAL_PIXELS = {"background": 714082, "cat": 39423, "dog": 32927}
PARAMS = {
    "training": {"batch_size": BATCH_SIZE, "epochs": 1, "trainer": {"limit_train_batches": 3}},
    "evaluation": {"batch_size": BATCH_SIZE, "error_examples": 1},
}


class LiveArrays:
    """Counts the arrays returned by the wrapped functions that are still referenced."""

    def __init__(self) -> None:
        self.alive = self.most = self.decoded = 0

    def wrap(self, function):
        def counted(*args, **kwargs):
            array = function(*args, **kwargs)
            self.alive += 1
            self.decoded += 1
            self.most = max(self.most, self.alive)
            weakref.finalize(array, self._released)
            return array

        return counted

    def _released(self) -> None:
        self.alive -= 1


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("streaming"))
    write_synthetic_dataset(
        project / "data/01_raw/demo", SyntheticDatasetParams(counts=COUNTS), CLASSES
    )
    return project


@pytest.mark.slow
@pytest.mark.parametrize("pipeline", ["data_validation", "eda", "training", "evaluation"])
def test_each_stage_holds_a_batch_of_decoded_arrays_at_most(
    project: Path, pipeline: str, monkeypatch: pytest.MonkeyPatch
):
    arrays = LiveArrays()
    monkeypatch.setattr(imaging, "rgb_array", arrays.wrap(imaging.rgb_array))
    monkeypatch.setattr(imaging, "mask_array", arrays.wrap(imaging.mask_array))

    run_kedro(project, env="demo", pipeline=pipeline, params=PARAMS)

    # The stage did decode the files (more than a split's worth), one batch at a time.
    assert arrays.decoded > COUNTS["val"]
    assert arrays.most <= MOST_ALIVE, f"{pipeline}: {arrays.most} decoded arrays alive at once"


def test_the_streaming_stages_give_the_reports_of_the_in_memory_ones(project: Path):
    """On the demo data set, the numbers the earlier (all in memory) stages wrote."""
    reporting = project / "data/08_reporting/demo"
    if not (reporting / "eda.json").exists():
        run_kedro(project, env="demo", pipeline="data_validation")
        run_kedro(project, env="demo", pipeline="eda")
    eda = json.loads((reporting / "eda.json").read_text())
    weights = json.loads((project / "data/04_feature/demo/class_weights.json").read_text())
    validation = json.loads((reporting / "data_validation.json").read_text())
    assert (validation["passed"], validation["errors"], validation["warnings"]) == (True, 0, 0)
    assert {s: validation["summary"][s]["validated_pairs"] for s in COUNTS} == COUNTS
    train = eda["splits"]["train"]
    assert train["images_with_class"] == {"background": 24, "cat": 12, "dog": 12}
    assert train["cooccurrence"] == [[24, 12, 12], [12, 12, 0], [12, 0, 12]]
    val_pixels = {name: c["pixels"] for name, c in eda["splits"]["val"]["class_pixels"].items()}
    assert val_pixels == EXPECTED_VAL_PIXELS
    np.testing.assert_allclose(weights["weights"], EXPECTED_WEIGHTS, atol=1e-6)
    np.testing.assert_allclose(
        eda["channel_statistics"]["all"]["mean_0_255"], EXPECTED_CHANNEL_MEAN, atol=1e-4
    )
