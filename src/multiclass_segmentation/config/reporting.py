"""Parameters of the reporting pipeline."""

from __future__ import annotations

from pydantic import Field

from multiclass_segmentation.config.common import StrictModel


class ReportingParams(StrictModel):
    """How the study report writes its numbers and how much of each list it shows."""

    score_digits: int = Field(default=3, ge=1, le=6, description="decimals of every score")
    findings_listed: int = Field(
        default=20,
        ge=0,
        description="data validation findings listed one by one; the table counts all of them",
    )
    files_listed: int = Field(default=3, ge=1, description="file names shown per finding")
    parameters_not_compared: tuple[str, ...] = Field(
        default=("checkpoint_dir", "resume", "num_workers"),
        description=(
            "training parameters (dotted paths) left out when listing the settings that differ "
            "between hypotheses: they say where or how a run ran, not what was trained"
        ),
    )
