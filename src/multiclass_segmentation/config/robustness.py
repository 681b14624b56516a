"""Parameters of the robustness pipeline: the shifted views a model is scored on.

Anchors: Hendrycks & Dietterich (ICLR 2019) for corruption families at five
severities, Kamann & Rother (CVPR 2020) for segmentation, mmdetection's
robustness report for P (clean), mPC (mean over corruptions and severities) and
rPC = mPC / P.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt, model_validator

from multiclass_segmentation.config.common import StrictModel

# The splits whose views are scored: val chooses between recipes, test reports.
ShiftedSplit = Literal["val", "test"]


class CorruptionParams(StrictModel):
    """One corruption: an albumentations transform and its arguments at each severity."""

    transform: str = Field(description="an albumentations transform class, e.g. GaussNoise")
    severities: list[dict[str, Any]] = Field(
        min_length=1, description="the transform's arguments at severity 1, 2, ... (p is 1)"
    )


class ScaleViewsParams(StrictModel):
    """Close-ups around each image's largest object, and zoom-outs that make objects small."""

    closeup_coverages: list[float] = Field(
        default_factory=lambda: [0.4, 0.6, 0.8],
        description="the share of the close-up's frame that its largest object fills",
    )
    zoomout_factors: list[float] = Field(
        default_factory=lambda: [0.5],
        description="the image shrunk by this factor in the middle of a frame of its size",
    )

    @model_validator(mode="after")
    def _fractions(self) -> ScaleViewsParams:
        for name in ("closeup_coverages", "zoomout_factors"):
            wrong = [value for value in getattr(self, name) if not 0 < value < 1]
            if wrong:
                raise ValueError(f"robustness.scale.{name} must lie in (0, 1), got {wrong}")
        return self


class RobustnessParams(StrictModel):
    """The shift benchmark: scale views, corruptions by family and severity, sampling."""

    splits: list[ShiftedSplit] = Field(default_factory=lambda: ["val", "test"], min_length=1)
    # Close-ups are resized to this square size (zoom-outs and corruptions keep the image's).
    view_size: PositiveInt = 256
    # Views are written here once, in a folder named after everything they depend on.
    cache_dir: str
    seed: int = 0
    scale: ScaleViewsParams = Field(default_factory=ScaleViewsParams)
    # family -> corruption name -> transform and severity table.
    corruptions: dict[str, dict[str, CorruptionParams]] = Field(default_factory=dict)
    # rotate: every image once per family, its severity and corruption rotated by position
    # (every cell gets a fifth of the images); full: every image at every severity of every
    # corruption (Hendrycks' protocol, 15 x 5 times the cost).
    sampling: Literal["rotate", "full"] = "rotate"
    # The shifted test images that lose the most Dice against their clean version, drawn.
    worst_examples: int = Field(3, ge=1)

    @model_validator(mode="after")
    def _same_severity_count(self) -> RobustnessParams:
        counts = {
            f"{family}.{name}": len(spec.severities)
            for family, corruptions in self.corruptions.items()
            for name, spec in corruptions.items()
        }
        if len(set(counts.values())) > 1:
            raise ValueError(
                "robustness.corruptions: every corruption needs the same number of severities "
                f"(so that severities compare across families), got {counts}"
            )
        empty = [family for family, corruptions in self.corruptions.items() if not corruptions]
        if empty:
            raise ValueError(f"robustness.corruptions: families {empty} list no corruption")
        return self

    @property
    def severities(self) -> int:
        """The number of severity levels (0 when there is no corruption)."""
        return next(
            (len(spec.severities) for c in self.corruptions.values() for spec in c.values()), 0
        )
