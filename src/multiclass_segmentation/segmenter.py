"""A trained model together with what it needs to be used on new images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from multiclass_segmentation.transforms import build_preprocessing


@dataclass
class Segmenter:
    """An smp model plus its preprocessing and label set.

    Evaluation and inference rebuild predictions from this alone, without
    knowing which hypothesis produced it.
    """

    model: nn.Module
    class_names: list[str]
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    hypothesis: str
    info: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        return {
            "class_names": list(self.class_names),
            "image_size": self.image_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "hypothesis": self.hypothesis,
            "info": self.info,
        }

    @torch.inference_mode()
    def predict_probabilities(
        self,
        image: np.ndarray,
        *,
        hflip: bool = False,
        scales: Sequence[float] = (1.0,),
    ) -> torch.Tensor:
        """Class probabilities (C x H x W) at the image's original size.

        The image is resized to the training size (and optionally to other
        scales and flipped, for test-time augmentation); logits are resized
        back to the original height and width before the softmax, so images
        of any size are scored at their own resolution.
        """
        # channels_last: 1.1x (batch 1) to 1.7x (batch 16) faster on this CPU (make bench).
        self.model.eval().to(memory_format=torch.channels_last)
        device = next(self.model.parameters()).device
        height, width = image.shape[:2]
        probabilities = torch.zeros(len(self.class_names), height, width, device=device)
        runs = 0
        for scale in scales:
            size = max(32, int(round(self.image_size * scale / 32)) * 32)
            tensor = build_preprocessing(size, self.mean, self.std)(image=image)["image"]
            batch = tensor.unsqueeze(0).to(device).contiguous(memory_format=torch.channels_last)
            for flip in (False, True) if hflip else (False,):
                inputs = torch.flip(batch, dims=[3]) if flip else batch
                logits = self.model(inputs)
                if flip:
                    logits = torch.flip(logits, dims=[3])
                logits = F.interpolate(
                    logits, size=(height, width), mode="bilinear", align_corners=False
                )
                probabilities += logits.softmax(dim=1)[0]
                runs += 1
        return probabilities / runs

    def predict(self, image: np.ndarray, **tta: Any) -> np.ndarray:
        """The predicted label mask (H x W, uint8 class ids) at the image's size."""
        return self.predict_probabilities(image, **tta).argmax(dim=0).byte().cpu().numpy()
