"""Project settings."""

from kedro.config import OmegaConfigLoader

from multiclass_segmentation.hooks import (
    MissingDatasetHook,
    SyntheticDatasetHook,
    TorchrunHook,
    TrainingParametersHook,
)
from multiclass_segmentation.integrations.tracking import ClearMLTrackingHook

# Kedro calls the last hook first: a run that the torchrun, parameter or dataset checks refuse
# starts no ClearML task. TorchrunHook: under torchrun, only global rank 0 saves
# (README, Several GPUs / machines).
HOOKS = (
    ClearMLTrackingHook(),
    SyntheticDatasetHook(),
    MissingDatasetHook(),
    TrainingParametersHook(),
    TorchrunHook(),
)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # A hypothesis environment overrides single keys of conf/base, not whole sections.
    "merge_strategy": {"parameters": "soft", "globals": "soft"},
}
