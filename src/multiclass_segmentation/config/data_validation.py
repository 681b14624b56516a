"""Parameters of the data_validation pipeline."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from multiclass_segmentation.config.common import StrictModel

# error: stops the run (after the reports are saved); warning: reported only;
# ignore: not even reported.
Severity = Literal["error", "warning", "ignore"]


class CheckSeverities(StrictModel):
    """The severity of each check; a field name is the check name in the reports."""

    image_without_mask: Severity = "error"
    mask_without_image: Severity = "error"
    stem_collision: Severity = "error"
    unreadable_file: Severity = "error"
    extension_mismatch: Severity = "warning"
    image_mode_converted: Severity = "warning"
    image_transparency_dropped: Severity = "warning"
    image_mode_unsupported: Severity = "error"
    mask_mode: Severity = "error"
    mask_size_mismatch: Severity = "error"
    mask_values_out_of_range: Severity = "error"
    mask_background_only: Severity = "warning"
    duplicate_images: Severity = "warning"
    near_duplicate_images: Severity = "warning"
    duplicate_images_across_splits: Severity = "error"
    near_duplicate_images_across_splits: Severity = "error"
    duplicate_masks_disagree: Severity = "warning"


class DataValidationParams(StrictModel):
    """How strict data validation is and where its report is written."""

    severity: CheckSeverities = CheckSeverities()
    near_duplicate_max_distance: int = Field(
        6,
        ge=0,
        le=64,
        description="largest Hamming distance between 64-bit perceptual hashes of near-duplicates",
    )
    mask_disagreement_fraction: float = Field(
        0.05,
        gt=0,
        le=1,
        description="masks of duplicate images disagree above this fraction of differing pixels",
    )
    files_listed: int = Field(
        5, ge=1, description="file names shown per check in the markdown report and the error"
    )
    report_path: str = Field(
        description="the markdown report's file (as the catalog writes it), named in the error"
    )
