"""A saved model folder (single model or ensemble) read back without Kedro.

``io/datasets.SegmentationModelDataset`` writes these folders; the inference
pipeline and the HTTP service read them with ``load_model_folder``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path

import segmentation_models_pytorch as smp

from multiclass_segmentation.core.segmenter import EnsembleSegmenter, Segmenter

SEGMENTER_METADATA = "segmenter.json"
# An ensemble's folder: its weights and members, each member a single model's folder.
ENSEMBLE_METADATA = "ensemble.json"
# What smp's save_pretrained writes; the checksum of a model covers these and its metadata.
MODEL_FILE_PATTERNS = ("config.json", "*.safetensors", "*.bin", SEGMENTER_METADATA)


def is_model_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a saved single model or ensemble (its metadata says so)."""
    return any((Path(folder) / name).is_file() for name in (SEGMENTER_METADATA, ENSEMBLE_METADATA))


def ensemble_metadata(folder: Path) -> dict | None:
    """An ensemble folder's ``ensemble.json`` (hypothesis, weights, members, info), else None."""
    path = Path(folder) / ENSEMBLE_METADATA
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def load_model_folder(folder: Path) -> Segmenter | EnsembleSegmenter:
    """The single model or the ensemble saved in ``folder``."""
    folder = Path(folder)
    metadata = ensemble_metadata(folder)
    if metadata is not None:
        return EnsembleSegmenter(
            members=[load_model_folder(folder / name) for name in metadata["members"]],
            weights=metadata["weights"],
            hypothesis=metadata["hypothesis"],
            info=metadata["info"],
        )
    with open(folder / SEGMENTER_METADATA, encoding="utf-8") as file:
        metadata = json.load(file)
    # huggingface_hub prints "Loading weights from local directory" at every load.
    with contextlib.redirect_stdout(io.StringIO()):
        model = smp.from_pretrained(str(folder))
    return Segmenter(
        model=model,
        class_names=metadata["class_names"],
        image_size=metadata["image_size"],
        mean=tuple(metadata["mean"]),
        std=tuple(metadata["std"]),
        hypothesis=metadata["hypothesis"],
        info=metadata.get("info", {}),
    )


def model_checksum(folder: Path) -> str:
    """SHA-256 over a single model folder's weights, configuration and metadata files.

    Anything else in the folder (e.g. a cached ONNX export) is left out, so a
    cache can record the checksum of the model it was made from.
    """
    folder = Path(folder)
    files = sorted({path for pattern in MODEL_FILE_PATTERNS for path in folder.glob(pattern)})
    if not files:
        raise FileNotFoundError(f"{folder} holds no saved model (no {SEGMENTER_METADATA})")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()
