"""Which model folder is served, the cached ONNX export, and the metrics that go with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from multiclass_segmentation.errors import BadInputError, MissingInputError
from multiclass_segmentation.serving.model import (
    CHECKSUM_KEY,
    ModelChoice,
    cached_onnx,
    load_served_model,
    model_metrics,
    resolve_model_folder,
)
from tests.pipelines.inference.builders import save_model, tiny_segmenter
from tests.serving.conftest import (
    CLASSES,
    FIRST_VERSION,
    SECOND_VERSION,
    TTA,
    evaluation_metrics,
    random_rgb,
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("served")
    save_model(project, FIRST_VERSION, tiny_segmenter("first"))
    save_model(project, SECOND_VERSION, tiny_segmenter("second", constant_class=2))
    return project


def test_the_latest_version_or_the_chosen_one_is_served(project: Path):
    models = project / "data/06_models/base"
    assert resolve_model_folder(models, None) == (models / SECOND_VERSION / "base", SECOND_VERSION)
    assert resolve_model_folder(models, FIRST_VERSION)[1] == FIRST_VERSION
    one_model = models / FIRST_VERSION / "base"
    assert resolve_model_folder(one_model, None) == (one_model, FIRST_VERSION)


def test_a_missing_version_or_model_is_named(project: Path, tmp_path: Path):
    with pytest.raises(MissingInputError, match=f"no version 2030.*{SECOND_VERSION}"):
        resolve_model_folder(project / "data/06_models/base", "2030")
    with pytest.raises(MissingInputError, match="no trained model"):
        resolve_model_folder(tmp_path, None)
    with pytest.raises(BadInputError, match="one saved model"):
        resolve_model_folder(project / "data/06_models/base" / FIRST_VERSION / "base", "x")


@pytest.mark.slow
def test_the_export_is_cached_beside_the_model_and_redone_when_the_weights_change(
    tmp_path: Path,
):
    save_model(tmp_path, FIRST_VERSION, tiny_segmenter("first"))
    folder = tmp_path / "data/06_models/base" / FIRST_VERSION / "base"
    path = cached_onnx(folder, in_subprocess=False)
    assert path == folder / "model.onnx"
    written = path.stat().st_mtime_ns
    assert cached_onnx(folder, in_subprocess=False).stat().st_mtime_ns == written, (
        "a valid cache is not exported again"
    )
    weights = next(folder.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x01")  # other weights, same size
    cached_onnx(folder, in_subprocess=False)
    recorded = {p.key: p.value for p in onnx.load(str(path)).metadata_props}[CHECKSUM_KEY]
    assert path.stat().st_mtime_ns != written and len(recorded) == 64
    assert sorted(p.name for p in folder.parent.iterdir()) == ["base"], "no temporary left"


@pytest.mark.slow
def test_onnx_runtime_and_pytorch_masks_agree(project: Path):
    served = load_served_model(
        ModelChoice(project / "data/06_models/base", FIRST_VERSION, export_in_subprocess=False),
        CLASSES,
    )
    image = random_rgb(70, 45, seed=3)
    expected = tiny_segmenter("first").predict(image, hflip=True)
    mask = served.predict(image, TTA)
    assert mask.shape == (70, 45) and (mask == expected).mean() >= 0.999
    assert len(np.unique(expected)) == 3, "a random model predicts every class somewhere"


@pytest.mark.slow
def test_an_ensemble_is_served_from_its_members_exports(tmp_path: Path):
    from kedro.io import Version

    from multiclass_segmentation.core.segmenter import EnsembleSegmenter
    from multiclass_segmentation.io.datasets import SegmentationModelDataset

    cats, dogs = tiny_segmenter("cats", constant_class=1), tiny_segmenter("dogs", 2)
    ensemble = EnsembleSegmenter(members=[cats, dogs], weights=[3.0, 1.0], hypothesis="pair")
    models = tmp_path / "pair"
    SegmentationModelDataset(filepath=str(models), version=Version(None, FIRST_VERSION)).save(
        ensemble
    )
    served = load_served_model(ModelChoice(models, export_in_subprocess=False), CLASSES)
    # The cat member weighs 3 of 4: its softmax (near 1 for cat) wins everywhere.
    assert np.all(served.predict(random_rgb(20, 20), TTA) == 1)
    assert sorted(p.name for p in (models / FIRST_VERSION / "pair").rglob("model.onnx")) == [
        "model.onnx",
        "model.onnx",
    ]


@pytest.mark.slow
def test_the_metrics_of_the_same_model_win_over_newer_ones(project: Path, tmp_path: Path):
    served = load_served_model(
        ModelChoice(project / "data/06_models/base", export_in_subprocess=False), CLASSES
    )

    def write(version: str, model: dict, mdice: float) -> None:
        path = tmp_path / "metrics.json" / version / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(evaluation_metrics(model, mdice)))

    assert model_metrics(tmp_path, served) is None
    write("2026-02-01T00.00.00.000Z", {"name": "second"}, 0.7)
    write("2026-03-01T00.00.00.000Z", {"name": "other"}, 0.9)
    broken = tmp_path / "study" / "base" / "metrics.json"
    broken.parent.mkdir(parents=True)
    broken.write_text(json.dumps({**evaluation_metrics({}, 0.1), "schema_version": 2}))
    with pytest.raises(BadInputError, match=f"{broken}.*schema_version 2"):
        model_metrics(tmp_path, served)
    broken.unlink()
    metrics = model_metrics(tmp_path, served)
    assert (metrics["test"]["mdice"], metrics["matches_model"]) == (0.7, True)
    served.info = {"name": "not evaluated"}
    metrics = model_metrics(tmp_path, served)
    assert (metrics["test"]["mdice"], metrics["matches_model"]) == (0.9, False)


def test_a_model_of_other_classes_is_refused(project: Path):
    from multiclass_segmentation.config.common import ClassesParams

    two = ClassesParams(names=("background", "cat"), ids=(0, 1), colors=("black", "red"))
    with pytest.raises(BadInputError, match="predicts classes"):
        load_served_model(
            ModelChoice(project / "data/06_models/base", export_in_subprocess=False), two
        )
