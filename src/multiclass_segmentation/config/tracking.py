"""Parameters of experiment tracking in ClearML (``parameters_tracking.yml``)."""

from __future__ import annotations

from pydantic import Field

from multiclass_segmentation.config.common import StrictModel


class TrackingParams(StrictModel):
    """Whether and how a run is tracked; keys and hosts are ClearML's own settings."""

    enabled: bool = True
    project: str = "multiclass_segmentation"
    api_host: str | None = Field(
        default=None, description="overrides CLEARML_API_HOST / clearml.conf's api.api_server"
    )
    web_host: str | None = None
    files_host: str | None = None
    connect_timeout_s: float = Field(default=3.0, gt=0)
    console: bool = Field(default=True, description="the run's console output in the task")
    resource_monitoring: bool = Field(default=True, description="CPU/GPU/memory graphs")
    log_every_n_steps: int = Field(default=10, ge=1, description="training-loss scalar period")
    execute_remotely: str | None = Field(
        default=None, description="a clearml-agent queue: enqueue the run there instead"
    )
