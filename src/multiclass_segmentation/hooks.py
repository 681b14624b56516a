"""Project hooks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol, MemoryDataset
from kedro.pipeline import Pipeline

from multiclass_segmentation.commands.synthetic import (
    SyntheticDatasetParams,
    write_synthetic_dataset,
)
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.core.distributed import torchrun_process
from multiclass_segmentation.errors import BadInputError, MissingInputError
from multiclass_segmentation.io.study_config import STUDY_RUNS, check_study_plan, study_plan

logger = logging.getLogger(__name__)


class SyntheticDatasetHook:
    """Writes the demo environment's synthetic dataset before its first run.

    Only an environment whose parameters hold ``synthetic_dataset`` (the demo)
    does this, and only when ``dataset.root`` does not exist yet, so a user's
    data is never touched. Not under torchrun, which runs only training
    (TorchrunHook): the many processes would write the same files at once.
    """

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        # The raw configuration: context.params holds the nodes' validated models.
        params = context.config_loader["parameters"]
        if not params.get("synthetic_dataset") or torchrun_process() is not None:
            return
        root = Path(params["dataset"]["root"])
        if not root.is_absolute():
            root = Path(context.project_path) / root
        if root.exists():
            return
        settings = SyntheticDatasetParams.model_validate(params["synthetic_dataset"])
        write_synthetic_dataset(root, settings, ClassesParams.model_validate(params["classes"]))
        logger.info("Wrote the synthetic demo dataset to %s", root)


# The pipeline that torchrun may run: its nodes carry this tag.
TORCHRUN_PIPELINE = "training"


class TorchrunHook:
    """Lets ``torchrun ... -m multiclass_segmentation --pipelines training`` train one model.

    torchrun starts the same ``kedro run`` in every process; each process is a
    DDP rank of the training node (core/distributed.py). Only global rank 0 saves:
    on the other ranks every dataset the run would write becomes a
    MemoryDataset. Any pipeline other than training is refused, since every
    rank would redo it (validation, EDA, evaluation) and save its outputs.
    Outside torchrun this hook does nothing.
    """

    @hook_impl(tryfirst=True)  # before the tracking hook starts a task for a refused run
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        process = torchrun_process()
        if process is None:
            return
        others = sorted(n.name for n in pipeline.nodes if TORCHRUN_PIPELINE not in n.tags)
        if others:
            raise BadInputError(
                f"Under torchrun only the {TORCHRUN_PIPELINE} pipeline runs (--pipelines "
                f"{TORCHRUN_PIPELINE}): every one of the {process.world_size} processes would "
                f"redo and save the other nodes ({', '.join(others)}). Run data_validation and "
                "eda once before, on one machine, with plain `kedro run`, on storage every "
                "machine reads (docs/distributed.md)."
            )
        if process.is_global_zero:
            return
        # Replacing a dataset is DataCatalog.__setitem__; node outputs flow on in memory.
        for name in sorted(pipeline.all_outputs()):
            catalog[name] = MemoryDataset(copy_mode="assign")
        logger.info(
            "torchrun rank %d of %d (machine %d): training only, global rank 0 saves the outputs",
            process.rank,
            process.world_size,
            process.node_rank,
        )


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


class TrainingParametersHook:
    """Stops a run that trains, before its first node, when its model or augmentations
    cannot be built (``training_run.check_buildable``).

    The parameter schema checks without importing torch; this asks smp and
    albumentations, so a misspelt encoder does not wait for validation and EDA.
    """

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: CatalogProtocol) -> None:
        # The training pipeline's, and each study run's (study_runs.<run>.training).
        trainings = [
            name
            for name in pipeline.inputs()
            if name == "params:training"
            or (name.startswith(f"params:{STUDY_RUNS}.") and name.endswith(".training"))
        ]
        if not trainings:
            return
        # Imported here: torch would slow every other Kedro command (viz, catalog, ...).
        from multiclass_segmentation.core.training_run import check_buildable

        for name in trainings:
            check_buildable(catalog.load(name))


class StudyPlanHook:
    """Stops a study, before its first node, whose run parameters list other hypotheses,
    seeds or ensembles than the conf its pipeline was built from (``check_study_plan``)."""

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: CatalogProtocol) -> None:
        if "params:study" in pipeline.inputs():
            check_study_plan(study_plan(), catalog.load("params:study"))
