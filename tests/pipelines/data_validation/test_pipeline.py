"""The data_validation pipeline run through Kedro on datasets in tmp_path and on the real one."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from multiclass_segmentation.pipelines.data_validation.nodes import DataValidationError
from multiclass_segmentation.pipelines.data_validation.pipeline import SPLITS
from tests.conftest import REAL_DATASET, run_kedro
from tests.pipelines.data_validation.builders import (
    GOOD_COUNTS,
    SIZE,
    label_mask,
    mask_path,
    write_good_dataset,
    write_image,
)


def _run(project, dataset):
    return run_kedro(
        project, env="base", pipeline="data_validation", params={"dataset": {"root": str(dataset)}}
    )


def _report(project) -> dict:
    return json.loads((project / "data" / "08_reporting" / "data_validation.json").read_text())


def test_good_dataset_is_reported_and_handed_over(project_copy, tmp_path):
    dataset = write_good_dataset(tmp_path / "dataset")

    _run(project_copy, dataset)

    report = _report(project_copy)
    assert (report["passed"], report["errors"], report["warnings"]) == (True, 0, 0)
    assert {split: report["summary"][split]["validated_pairs"] for split in SPLITS} == GOOD_COUNTS
    markdown = (project_copy / "data" / "08_reporting" / "data_validation.md").read_text()
    assert "| train | 3 | 3 | 0 | 0 | 3 | 3 |" in markdown
    # The hand-over is a manifest a person can open: paths and facts, no pixels.
    for split, count in GOOD_COUNTS.items():
        with (project_copy / "data" / "03_primary" / f"{split}.csv").open() as file:
            rows = list(csv.DictReader(file))
        assert [row["id"] for row in rows] == [f"{split}_{index}" for index in range(count)]
        assert [row["image"] for row in rows] == [
            f"img/{split}/{split}_{index}.jpg" for index in range(count)
        ]
        assert {(row["height"], row["width"]) for row in rows} == {(str(SIZE), str(SIZE))}
        cat_pixels = int(np.count_nonzero(label_mask(1) == 1))
        assert rows[0]["pixels_cat"] == str(cat_pixels)


def test_errors_stop_the_run_after_the_reports_are_saved(project_copy, tmp_path):
    dataset = write_good_dataset(tmp_path / "dataset")
    mask_path(dataset, "val", "val_1.png").unlink()
    write_image(mask_path(dataset, "test", "test_0.png"), np.dstack([label_mask(1)] * 3))

    with pytest.raises(DataValidationError) as raised:
        _run(project_copy, dataset)

    message = str(raised.value)
    assert "image_without_mask: 1 file(s): img/val/val_1.jpg" in message
    assert "mask_mode: 1 file(s): labels/test/test_0.png" in message
    assert "data/08_reporting/data_validation.md" in message
    report = _report(project_copy)
    assert (report["passed"], report["errors"]) == (False, 2)
    assert (project_copy / "data" / "08_reporting" / "data_validation.md").exists()
    assert not (project_copy / "data" / "03_primary" / "train.csv").exists()


@pytest.mark.slow
@pytest.mark.skipif(not REAL_DATASET.exists(), reason=f"the real dataset is not at {REAL_DATASET}")
def test_real_dataset_has_every_pair_and_no_errors(project_copy):
    _run(project_copy, REAL_DATASET)

    report = _report(project_copy)
    expected = {"train": 200, "val": 120, "test": 120}
    for key in ("complete_pairs", "validated_pairs"):
        assert {split: report["summary"][split][key] for split in SPLITS} == expected
    assert report["errors"] == 0
    with (project_copy / "data" / "03_primary" / "test.csv").open() as file:
        assert len(list(csv.DictReader(file))) == 120
