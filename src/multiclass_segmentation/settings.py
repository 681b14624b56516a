"""Project settings."""

from kedro.config import OmegaConfigLoader

from multiclass_segmentation.hooks import MissingDatasetHook, SyntheticDatasetHook, TorchrunHook
from multiclass_segmentation.tracking import ClearMLTrackingHook

# TorchrunHook: under torchrun, only global rank 0 saves (README, Several GPUs / machines).
HOOKS = (SyntheticDatasetHook(), MissingDatasetHook(), ClearMLTrackingHook(), TorchrunHook())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # A hypothesis environment overrides single keys of conf/base, not whole sections.
    "merge_strategy": {"parameters": "soft", "globals": "soft"},
    # conf/<env>/clearml.yml: experiment tracking (tracking.py).
    "config_patterns": {"clearml": ["clearml*", "clearml*/**", "**/clearml*"]},
}
