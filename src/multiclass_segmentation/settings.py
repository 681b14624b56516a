"""Project settings."""

from multiclass_segmentation.hooks import (
    MissingDatasetHook,
    NodeProgressHook,
    StudyPlanHook,
    SyntheticDatasetHook,
    TorchrunHook,
    TrainingParametersHook,
    UpstreamInputHook,
)
from multiclass_segmentation.integrations.tracking import ClearMLTrackingHook
from multiclass_segmentation.io.study_config import StudyConfigLoader

# Kedro calls the last hook first: a run that the torchrun, parameter or input checks refuse
# starts no ClearML task. TorchrunHook: under torchrun, only global rank 0 saves
# (docs/distributed.md).
HOOKS = (
    NodeProgressHook(),
    ClearMLTrackingHook(),
    SyntheticDatasetHook(),
    MissingDatasetHook(),
    UpstreamInputHook(),
    TrainingParametersHook(),
    StudyPlanHook(),
    TorchrunHook(),
)

# Kedro's OmegaConfigLoader; a study's parameters also get each run's (study_config.py).
CONFIG_LOADER_CLASS = StudyConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # A hypothesis environment overrides single keys of conf/base, not whole sections.
    "merge_strategy": {"parameters": "soft", "globals": "soft"},
}
