"""The trained model as an ONNX file, for serving without PyTorch.

    python -m multiclass_segmentation.export --env base --output data/06_models/base.onnx

The graph takes a float32 batch ``image`` (N x 3 x S x S, S = the training
image size, normalised with the model's mean and std) and returns ``logits``
(N x classes x S x S); the batch size is free. The segmenter's metadata
(class names, image size, mean, std, hypothesis) is stored as JSON in the
model's ``segmenter`` metadata property.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import onnx
import torch
from torch.export import Dim

from multiclass_segmentation.atomic import write_atomically
from multiclass_segmentation.inference import load_segmenter
from multiclass_segmentation.segmenter import Segmenter

METADATA_KEY = "segmenter"
# torch's exporter writes opset 18 and newer; an older opset goes through onnx's
# version converter, which fails for some models (DeepLabV3+).
DEFAULT_OPSET = 18


def export_onnx(segmenter: Segmenter, path: Path, opset: int = DEFAULT_OPSET) -> Path:
    """Writes the segmenter's model to ``path`` as ONNX with a dynamic batch axis.

    Height and width are fixed at ``segmenter.image_size``. The file is
    written under a temporary name and renamed, so a failed export leaves no
    half-written model.
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
        onnx.helper.set_model_props(exported, {METADATA_KEY: json.dumps(segmenter.metadata())})
        onnx.checker.check_model(exported)
        onnx.save(exported, str(target))

    path = Path(path)
    write_atomically(path, write)
    return path


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        prog="python -m multiclass_segmentation.export",
        description="Export the project's trained model to ONNX.",
    )
    parser.add_argument("--output", type=Path, required=True, help="the .onnx file to write")
    parser.add_argument("--project-path", type=Path, default=Path("."))
    parser.add_argument("--env", default="base", help="the environment (hypothesis) whose model")
    parser.add_argument("--version", help="a trained_model version; the latest by default")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    args = parser.parse_args(argv)
    segmenter = load_segmenter(args.project_path, env=args.env, version=args.version)
    path = export_onnx(segmenter, args.output, opset=args.opset)
    print(f"Wrote {path} (model of hypothesis '{segmenter.hypothesis}')")
    return path


if __name__ == "__main__":
    main()
