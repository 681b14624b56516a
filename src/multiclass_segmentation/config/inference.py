"""Parameters of the inference pipeline."""

from __future__ import annotations

from pydantic import Field

from multiclass_segmentation.config.common import StrictModel
from multiclass_segmentation.config.evaluation import TestTimeAugmentation


class InferenceParams(StrictModel):
    """Where the images to label are, where their masks go, and how they are predicted.

    Relative paths are relative to the working directory, the project root under
    ``kedro run``.
    """

    input_dir: str = Field(description="folder of images to label, subfolders included")
    output_dir: str = Field(description="every run writes into a new timestamped subfolder here")
    model_dir: str = Field(
        description="the trained_model folder of the catalog, checked before the model loads"
    )
    tta: TestTimeAugmentation = Field(default_factory=TestTimeAugmentation)
    # Opacity of the class colours in the overlay images.
    overlay_alpha: float = Field(0.5, ge=0, le=1)
