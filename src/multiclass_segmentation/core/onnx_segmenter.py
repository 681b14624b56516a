"""A segmenter exported to ONNX (``core/export.py``), run by ONNX Runtime.

It predicts through ``segmenter.predict_probabilities_with``, the resize,
normalisation, flip and resize-back that the PyTorch ``Segmenter`` uses, so the
two differ only in float rounding inside the network.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import torch

from multiclass_segmentation.core.export import METADATA_KEY
from multiclass_segmentation.core.segmenter import (
    LabelsFromProbabilities,
    Preprocessing,
    predict_probabilities_with,
)

# ONNX Runtime's names of the devices the service can run on.
PROVIDERS = {"cpu": ["CPUExecutionProvider"], "cuda": ["CUDAExecutionProvider"]}


@dataclass
class OnnxSegmenter(LabelsFromProbabilities):
    """An ONNX Runtime session plus the metadata the export stored in the file."""

    session: onnxruntime.InferenceSession
    class_names: list[str]
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    hypothesis: str
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_file(
        cls, path: Path, device: str = "cpu", threads: int | None = None
    ) -> OnnxSegmenter:
        """Opens an exported model; ``threads`` caps ONNX Runtime's threads (None: its default)."""
        if device not in PROVIDERS:
            raise ValueError(f"device must be one of {sorted(PROVIDERS)}, got '{device}'")
        missing = set(PROVIDERS[device]) - set(onnxruntime.get_available_providers())
        if missing:
            raise ValueError(
                f"ONNX Runtime has no {', '.join(sorted(missing))} here: install the gpu extra "
                "(pip install -e '.[gpu]', onnxruntime-gpu) on a host with CUDA"
            )
        options = onnxruntime.SessionOptions()
        # ONNX Runtime's threads otherwise spin after each run, taking the cores from the
        # pre- and post-processing that follows: 1.3x slower per image in a profile on 2 cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads is not None:
            options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=PROVIDERS[device]
        )
        metadata = json.loads(session.get_modelmeta().custom_metadata_map[METADATA_KEY])
        return cls(
            session=session,
            class_names=list(metadata["class_names"]),
            image_size=int(metadata["image_size"]),
            mean=tuple(metadata["mean"]),
            std=tuple(metadata["std"]),
            hypothesis=metadata["hypothesis"],
            info=metadata.get("info", {}),
        )

    def run_model(self, batch: torch.Tensor) -> torch.Tensor:
        """The logits of a normalised float32 batch (N x 3 x S x S), as the graph computes them."""
        (logits,) = self.session.run(["logits"], {"image": batch.numpy()})
        return torch.from_numpy(logits)

    def predict_probabilities_batch(
        self,
        images: Sequence[np.ndarray],
        *,
        hflip: bool = False,
        scales: Sequence[float] = (1.0,),
    ) -> list[torch.Tensor]:
        """Class probabilities (C x H x W) of each RGB image at its size (``Segmenter``'s)."""
        if tuple(scales) != (1.0,):
            raise ValueError(
                f"an ONNX model takes {self.image_size} px input only, so test-time scales "
                f"{list(scales)} need the PyTorch runtime; use scales [1.0]"
            )
        return predict_probabilities_with(
            self.run_model,
            images,
            preprocessing=Preprocessing(self.image_size, tuple(self.mean), tuple(self.std)),
            num_classes=len(self.class_names),
            hflip=hflip,
            scales=scales,
        )
