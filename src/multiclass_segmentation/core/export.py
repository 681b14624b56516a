"""A segmenter as an ONNX file, for serving without PyTorch; never imports kedro.

``python -m multiclass_segmentation.commands.export`` exports the project's trained model.

The graph takes a float32 batch ``image`` (N x 3 x S x S, S = the training
image size, normalised with the model's mean and std) and returns ``logits``
(N x classes x S x S); the batch size is free. The segmenter's metadata
(class names, image size, mean, std, hypothesis) is stored as JSON in the
model's ``segmenter`` metadata property.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import torch
from torch.export import Dim

from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.io.atomic import write_atomically

METADATA_KEY = "segmenter"
# torch's exporter writes opset 18 and newer; an older opset goes through onnx's
# version converter, which fails for some models (DeepLabV3+).
DEFAULT_OPSET = 18


def export_onnx(
    segmenter: Segmenter,
    path: Path,
    opset: int = DEFAULT_OPSET,
    extra_metadata: dict[str, str] | None = None,
) -> Path:
    """Writes the segmenter's model to ``path`` as ONNX with a dynamic batch axis.

    Height and width are fixed at ``segmenter.image_size``. The file is
    written under a temporary name and renamed, so a failed export leaves no
    half-written model. ``extra_metadata`` adds string properties (e.g. the
    checksum of the weights it was made from).
    """
    model = segmenter.model.eval()
    device = next(model.parameters()).device
    # torch.export treats a batch of 1 as a constant, so the example has two images.
    example = torch.zeros(2, 3, segmenter.image_size, segmenter.image_size, device=device)

    def write(target: Path) -> None:
        torch.onnx.export(
            model,
            (example,),
            str(target),
            input_names=["image"],
            output_names=["logits"],
            opset_version=opset,
            dynamic_shapes=({0: Dim("batch")},),
            external_data=False,
        )
        exported = onnx.load(str(target))
        written = next(entry.version for entry in exported.opset_import if entry.domain == "")
        if written != opset:
            raise ValueError(
                f"torch could not convert {type(model).__name__} to ONNX opset {opset} "
                f"(it wrote opset {written}): export with opset {DEFAULT_OPSET} or newer."
            )
        properties = {**(extra_metadata or {}), METADATA_KEY: json.dumps(segmenter.metadata())}
        onnx.helper.set_model_props(exported, properties)
        onnx.checker.check_model(exported)
        onnx.save(exported, str(target))

    path = Path(path)
    write_atomically(path, write)
    return path
