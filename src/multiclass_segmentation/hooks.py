"""Project hooks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol, MemoryDataset
from kedro.pipeline import Node, Pipeline

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


def _every_pipeline(selected: list[str] | None) -> dict[str, Pipeline]:
    """Every registered pipeline: Kedro 1.7 builds only the selected ones for a run
    (``--pipelines``), then builds those again for what comes after."""
    from kedro.framework.project import pipelines  # imported here: settings imports hooks

    pipelines.set_requested(None)
    try:
        return dict(pipelines.items())
    finally:
        pipelines.set_requested(selected)


def _writer_pipelines(
    missing: set[str], pipelines: dict[str, Pipeline], exists: Callable[[str], bool]
) -> list[str]:
    """The registered pipelines that write ``missing``, and those that write their own
    missing inputs in turn: for each dataset the pipeline with the fewest nodes."""
    named = {name: p for name, p in pipelines.items() if name != "__default__"}
    writers: list[str] = []
    to_find, seen = sorted(missing), set(missing)
    while to_find:
        dataset = to_find.pop()
        candidates = [name for name, p in named.items() if dataset in p.all_outputs()]
        if not candidates:
            continue
        writer = min(candidates, key=lambda name: len(named[name].nodes))
        if writer in writers:
            continue
        writers.append(writer)
        for upstream in sorted(named[writer].inputs() - seen):
            seen.add(upstream)
            if not upstream.startswith("params:") and not exists(upstream):
                to_find.append(upstream)
    return _upstream_first(writers, named)


def _upstream_first(names: list[str], registry: dict[str, Pipeline]) -> list[str]:
    """``names`` ordered so that a pipeline comes after those whose outputs it reads."""
    ordered, remaining = [], list(names)
    while remaining:
        feeds = {  # the remaining pipelines that read nothing another remaining one writes
            name
            for name in remaining
            if not any(
                registry[other].all_outputs() & registry[name].inputs()
                for other in remaining
                if other != name
            )
        }
        chosen = next((name for name in remaining if name in feeds), remaining[0])
        ordered.append(chosen)
        remaining.remove(chosen)
    return ordered


class UpstreamInputHook:
    """Stops a run, before its first node, when an input that another pipeline writes
    is not there yet, and says which pipelines to run first.

    Kedro would fail at the first node that loads it, with a traceback ending in a
    file path (``kedro run --pipelines sweep`` on a fresh clone).
    """

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        def exists(name: str) -> bool:
            if name not in catalog:
                return False
            return getattr(catalog.get(name), "loads_when_missing", False) or catalog.exists(name)

        inputs = {name for name in pipeline.inputs() if not name.startswith("params:")}
        missing = {name for name in inputs if not exists(name)}
        if not missing:
            return
        registry = _every_pipeline(run_params.get("pipeline_names"))
        writers = _writer_pipelines(missing, registry, exists)
        if not writers:
            return
        written = sorted(
            name for name in missing if any(name in registry[w].all_outputs() for w in writers)
        )
        # Upstream first; Kedro orders the listed pipelines' nodes itself.
        selected = run_params.get("pipeline_names") or []
        rerun = writers + [name for name in selected if name not in writers]
        env = run_params.get("env")
        command = f"kedro run{f' --env {env}' if env else ''} --pipelines {','.join(rerun)}"
        raise MissingInputError(
            f"{', '.join(written)}: not there yet; earlier pipelines write "
            f"{'them' if len(written) > 1 else 'it'}. Run `{command}` (`make run` runs "
            "every pipeline)."
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


class NodeProgressHook:
    """One console line as each node starts (its place in the run) and one at the end.

    Stands in for Kedro's own lines on every dataset loaded and saved and two per
    finished node, which conf/logging.yml sends to the log file only.
    """

    def __init__(self) -> None:
        self._total = 0
        self._started = 0
        self._run_started = 0.0

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline) -> None:
        self._total, self._started = len(pipeline.nodes), 0
        self._run_started = time.monotonic()

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._started += 1
        logger.info("[%d/%d] %s", self._started, self._total, node.name)

    @hook_impl
    def after_pipeline_run(self) -> None:
        minutes, seconds = divmod(round(time.monotonic() - self._run_started), 60)
        logger.info("Ran %d nodes in %d min %02d s", self._total, minutes, seconds)
