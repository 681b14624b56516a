"""Parameters of the eda pipeline."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from multiclass_segmentation.config.common import StrictModel


class EdaParams(StrictModel):
    """How the exploratory analysis counts objects, suggests weights and picks samples."""

    min_component_pixels: int = Field(
        default=20,
        ge=1,
        description="connected components smaller than this many pixels are specks, not objects",
    )
    class_weights_method: Literal["inverse_frequency", "median_frequency"] = Field(
        default="median_frequency",
        description="which of the suggested class weightings training should use",
    )
    object_size_bins: int = Field(
        default=30, ge=2, description="bins of the object size histogram (log-spaced)"
    )
    samples_per_split: int = Field(
        default=4, ge=1, description="images per split in the grid of sample overlays"
    )
    seed: int = Field(default=0, description="seed of the sample pick, so the grid is reproducible")
