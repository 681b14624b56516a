"""Project hooks."""

from __future__ import annotations

import logging
from pathlib import Path

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline

from multiclass_segmentation.errors import MissingInputError
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


def _dataset_root(context: KedroContext) -> Path:
    root = Path(context.config_loader["parameters"]["dataset"]["root"])
    return root if root.is_absolute() else Path(context.project_path) / root


class MissingDatasetHook:
    """Stops a run that reads the raw dataset when ``dataset.root`` is not a folder.

    Kedro would only say that a partitioned dataset has no partitions; this
    says which folder is missing and how to get the dataset there.
    """

    def __init__(self) -> None:
        self._root: Path | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._root = _dataset_root(context)

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline) -> None:
        raw = ("raw_images_", "raw_masks_")
        reads_raw = any(name.startswith(raw) for name in pipeline.inputs())
        if reads_raw and self._root is not None and not self._root.is_dir():
            raise MissingInputError(
                f"The dataset folder {self._root} (dataset.root) does not exist: put the dataset "
                "there (`make data` fetches the default one), or point to yours with "
                '--params "dataset.root=/path/to/data". It holds img/<split>/*.jpg and '
                "labels/<split>/*.png."
            )
