"""The model dataset round trip and the study table's file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from kedro.io.core import DatasetError

from multiclass_segmentation.config.model import ModelParams
from multiclass_segmentation.core.models import build_model
from multiclass_segmentation.core.segmenter import EnsembleSegmenter, Segmenter
from multiclass_segmentation.io.datasets import (
    GENERATED_MARKER,
    ConfEnvironmentsDataset,
    ResultsJSONDataset,
    SegmentationModelDataset,
    StudyResultsDataset,
)
from tests.pipelines.inference.builders import tiny_segmenter

TINY = ModelParams(
    architecture="Unet",
    encoder_name="resnet18",
    encoder_weights=None,
    encoder_depth=3,
    extra={"decoder_channels": [16, 8, 8]},
)


def _segmenter() -> Segmenter:
    torch.manual_seed(0)
    return Segmenter(
        model=build_model(TINY, 3).eval(),
        class_names=["background", "cat", "dog"],
        image_size=64,
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        hypothesis="tiny",
        info={"best_epoch": 1},
    )


def test_saved_model_loads_back_with_the_same_predictions(tmp_path: Path):
    segmenter = _segmenter()
    image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    segmenter.predict(image)  # inference leaves the weights channels_last; saving must cope
    dataset = SegmentationModelDataset(filepath=str(tmp_path / "model"))
    dataset.save(segmenter)
    loaded = dataset.load()
    assert loaded.metadata() == segmenter.metadata()
    assert torch.equal(loaded.predict_probabilities(image), segmenter.predict_probabilities(image))
    # Predictions come back at the image's own size, not the training size.
    assert loaded.predict(image).shape == (50, 70)
    assert not list(tmp_path.glob("**/.model.*")), "no temporary folder is left behind"


def test_versioned_saves_never_overwrite_an_earlier_model(tmp_path: Path):
    from kedro.io import Version

    first = SegmentationModelDataset(
        filepath=str(tmp_path / "model"), version=Version(None, "2026-01-01T00.00.00.000Z")
    )
    second = SegmentationModelDataset(
        filepath=str(tmp_path / "model"), version=Version(None, "2026-01-02T00.00.00.000Z")
    )
    first.save(_segmenter())
    second.save(_segmenter())
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "2026-01-01T00.00.00.000Z",
        "2026-01-02T00.00.00.000Z",
    ]
    latest = SegmentationModelDataset(filepath=str(tmp_path / "model"), version=Version(None, None))
    assert latest._get_load_path().parent.name == "2026-01-02T00.00.00.000Z"


def test_study_results_start_empty_and_round_trip(tmp_path: Path):
    dataset = StudyResultsDataset(filepath=str(tmp_path / "reporting" / "results.json"))
    assert dataset.load() == {}
    dataset.save({"best_model": "base"})
    # Written before the schema: read as version 1.
    assert dataset.load() == {"schema_version": 1, "best_model": "base"}
    assert [p.name for p in (tmp_path / "reporting").iterdir()] == ["results.json"]


def test_results_files_of_another_shape_or_version_fail_on_load_naming_the_file(tmp_path: Path):
    results = StudyResultsDataset(filepath=str(tmp_path / "results.json"))
    results.save({"schema_version": 2, "best_model": "base"})
    # Kedro wraps the BadInputError, which the command line finds as the cause.
    with pytest.raises(DatasetError, match=r"results\.json .*schema_version 2") as raised:
        results.load()
    assert type(raised.value.__cause__).__name__ == "BadInputError"
    metrics = ResultsJSONDataset(results_file="metrics.json", filepath=str(tmp_path / "m.json"))
    metrics.save({"hypothesis": "base", "val": {}})
    with pytest.raises(DatasetError, match=r"m\.json .*evaluated_at: Field required"):
        metrics.load()
    with pytest.raises(DatasetError, match="results_file 'other.json'"):
        ResultsJSONDataset(results_file="other.json", filepath=str(tmp_path / "o.json"))


def test_an_ensemble_saves_each_member_and_loads_back_with_the_same_predictions(tmp_path: Path):
    ensemble = EnsembleSegmenter(
        members=[tiny_segmenter("a"), tiny_segmenter("b", constant_class=2)],
        weights=[2.0, 1.0],
        hypothesis="pair",
        info={"members": ["a.seed_1", "b.seed_1"]},
    )
    image = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    dataset = SegmentationModelDataset(filepath=str(tmp_path / "ensemble"))
    dataset.save(ensemble)

    loaded = dataset.load()
    assert isinstance(loaded, EnsembleSegmenter)
    assert (loaded.weights, loaded.hypothesis, loaded.info) == ([2.0, 1.0], "pair", ensemble.info)
    assert sorted(p.name for p in (tmp_path / "ensemble").iterdir()) == [
        "ensemble.json",
        "member_0",
        "member_1",
    ]
    torch.testing.assert_close(
        loaded.predict_probabilities(image), ensemble.predict_probabilities(image)
    )


def test_a_model_saved_again_replaces_the_old_folder_whole(tmp_path: Path):
    dataset = SegmentationModelDataset(filepath=str(tmp_path / "run"))
    assert not dataset.exists()
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    # A folder of checkpoints alone is no model.
    assert not dataset.exists()
    dataset.save(_segmenter())
    dataset.save(tiny_segmenter("second"))
    assert dataset.exists()
    assert dataset.load().info == {"name": "second"}
    assert not (tmp_path / "run" / "checkpoints").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "nothing is left beside it"


def test_environments_are_replaced_whole_and_only_when_a_sweep_wrote_them(tmp_path: Path):
    conf = tmp_path / "conf"
    (conf / "mine").mkdir(parents=True)
    (conf / "mine" / "globals.yml").write_text("hypothesis: mine\n")
    dataset = ConfEnvironmentsDataset(path=str(conf))

    dataset.save({"best": {"globals.yml": "hypothesis: best\n", "parameters_training.yml": "{}"}})
    dataset.save({"best": {"globals.yml": "hypothesis: best\n"}})
    with pytest.raises(DatasetError, match="not written by a sweep"):
        dataset.save({"mine": {"globals.yml": "hypothesis: other\n"}})

    assert (conf / "mine" / "globals.yml").read_text() == "hypothesis: mine\n"
    assert [p.name for p in (conf / "best").iterdir()] == ["globals.yml"]
    assert (conf / "best" / "globals.yml").read_text() == f"{GENERATED_MARKER}\nhypothesis: best\n"
    assert sorted(p.name for p in conf.iterdir()) == ["best", "mine"]  # no temporaries left
    assert dataset.load() == {"best": True, "mine": False}
