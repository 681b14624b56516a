"""The project's trained model as an ONNX file; the format is in ``core/export.py``.

python -m multiclass_segmentation.commands.export --env base --output data/06_models/base.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

from multiclass_segmentation.commands.inference import load_segmenter
from multiclass_segmentation.core.export import DEFAULT_OPSET, export_onnx


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        prog="python -m multiclass_segmentation.commands.export",
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
