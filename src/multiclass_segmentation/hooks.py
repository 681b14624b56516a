"""Project hooks."""

from __future__ import annotations

import logging
from pathlib import Path

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

from multiclass_segmentation.params.common import ClassesParams
from multiclass_segmentation.synthetic import SyntheticDatasetParams, write_synthetic_dataset

logger = logging.getLogger(__name__)


class SyntheticDatasetHook:
    """Writes the demo environment's synthetic dataset before its first run.

    Only an environment whose parameters hold ``synthetic_dataset`` (the demo)
    does this, and only when ``dataset.root`` does not exist yet, so a user's
    data is never touched.
    """

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        # The raw configuration: context.params holds the nodes' validated models.
        params = context.config_loader["parameters"]
        if not params.get("synthetic_dataset"):
            return
        root = Path(params["dataset"]["root"])
        if not root.is_absolute():
            root = Path(context.project_path) / root
        if root.exists():
            return
        settings = SyntheticDatasetParams.model_validate(params["synthetic_dataset"])
        write_synthetic_dataset(root, settings, ClassesParams.model_validate(params["classes"]))
        logger.info("Wrote the synthetic demo dataset to %s", root)
