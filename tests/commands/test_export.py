"""ONNX export: onnxruntime reproduces the PyTorch model for any batch size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from multiclass_segmentation.commands.export import main
from multiclass_segmentation.core.export import DEFAULT_OPSET, METADATA_KEY
from tests.conftest import copy_project
from tests.pipelines.inference.builders import save_model, tiny_segmenter

# The runtimes differ in float32 rounding only.
MAX_LOGIT_DIFFERENCE = 1e-4
MIN_MASK_AGREEMENT = 0.999


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's tiny model (a 64x64 Unet) exported once by the command line."""
    parent = tmp_path_factory.mktemp("export")
    project = copy_project(parent)
    save_model(project, "2026-01-01T00.00.00.000Z", tiny_segmenter("latest"))
    return main(
        [
            "--project-path",
            str(project),
            "--env",
            "base",
            "--output",
            str(parent / "onnx/tiny.onnx"),
        ]
    )


@pytest.mark.slow
def test_onnx_logits_and_masks_match_pytorch_for_any_batch_size(exported: Path):
    model = tiny_segmenter("latest").model
    session = onnxruntime.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for batch_size in (1, 3):
        batch = rng.standard_normal((batch_size, 3, 64, 64)).astype(np.float32)
        with torch.inference_mode():
            expected = model(torch.from_numpy(batch)).numpy()
        (logits,) = session.run(["logits"], {"image": batch})
        assert logits.shape == expected.shape == (batch_size, 3, 64, 64)
        assert np.abs(logits - expected).max() < MAX_LOGIT_DIFFERENCE
        agreement = (logits.argmax(axis=1) == expected.argmax(axis=1)).mean()
        assert agreement >= MIN_MASK_AGREEMENT


def test_the_file_carries_the_segmenter_metadata_and_nothing_else_is_left(exported: Path):
    assert [p.name for p in exported.parent.iterdir()] == ["tiny.onnx"], "no temporary left"
    model = onnx.load(str(exported))
    assert {entry.domain: entry.version for entry in model.opset_import}[""] == DEFAULT_OPSET
    metadata = json.loads({p.key: p.value for p in model.metadata_props}[METADATA_KEY])
    assert metadata["class_names"] == ["background", "cat", "dog"]
    assert (metadata["image_size"], metadata["info"]) == (64, {"name": "latest"})
    (image,) = model.graph.input
    dims = [d.dim_param or d.dim_value for d in image.type.tensor_type.shape.dim]
    assert dims == ["batch", 3, 64, 64]
