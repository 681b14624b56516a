"""Parameters of the evaluation pipeline."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt

from multiclass_segmentation.config.common import StrictModel


class TestTimeAugmentation(StrictModel):
    hflip: bool = False
    scales: list[float] = Field(default_factory=lambda: [1.0])


class EvaluationParams(StrictModel):
    tta: TestTimeAugmentation = Field(default_factory=TestTimeAugmentation)
    # The study's target: test mDice (background included) above this.
    target_mdice: float = Field(0.75, ge=0, le=1)
    # How many best and worst test images the error analysis draws.
    error_examples: int = Field(4, ge=1)
    # Object-size buckets (fraction of the image area) for recall by size.
    size_buckets: list[float] = Field(default_factory=lambda: [0.0, 0.02, 0.08, 0.25, 1.0])
    # Images predicted at once, and the DataLoader processes that read them
    # (auto: the usable CPU cores; 0: in the evaluation process).
    batch_size: int = Field(8, ge=1)
    num_workers: NonNegativeInt | Literal["auto"] = "auto"
    # Labelled sets from elsewhere (name -> folder holding img/ and labels/), validated by
    # data validation's rules and scored at their own resolution by the robustness pipeline.
    external_sets: dict[str, str] = Field(default_factory=dict)
