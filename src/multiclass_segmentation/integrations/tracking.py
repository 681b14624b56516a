"""Experiment tracking in ClearML, as a Kedro hook: nodes never call ClearML.

One ClearML task per hypothesis run: a run that trains or evaluates is named
after its hypothesis (``base``), and a later evaluation-only run of the same
hypothesis continues that task when a server holds it, so the model, curves,
metrics and figures of a hypothesis are in one place. Other runs are named
after their pipelines (``eda (base)``). The task holds the parameters (passed
through ``task.connect`` before any node runs: values edited in the ClearML UI
for a cloned task are the ones the run validates and uses), the training
curves while training runs (clearml_tasks.LiveScalars), console, resource
graphs, code state, every dataset declared with ``metadata: {clearml: ...}``
in the catalog, and the trained model. Without a reachable server the task is
kept in ClearML's offline mode and the run logs where the session archive is.

A sweep's trials and a study's runs get a task each instead (``OWN_TASKS_TAG``,
``NAMESPACE_TASK_TAG``): many trainings in one run would otherwise mix their curves.

Tracking never breaks a run: a ClearML error is logged as a warning and tracking
is off for the rest of that run.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
import shlex
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol
from kedro.pipeline import Node, Pipeline
from kedro.validation import ParameterValidator
from pydantic import BaseModel, ValidationError

from multiclass_segmentation.config.tracking import TrackingParams
from multiclass_segmentation.core.distributed import is_secondary_rank
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.integrations.clearml_tasks import (
    close_task,
    start_task,
    task_of_its_own,
)

if TYPE_CHECKING:
    from multiclass_segmentation.core.segmenter import Segmenter

logger = logging.getLogger(__name__)

PACKAGE = "multiclass_segmentation"
# smp's save_pretrained writes its weights under huggingface_hub's file name.
WEIGHTS_FILE = "model.safetensors"
PARAMETERS_SECTION = "parameters"
RUN_SECTION = "kedro run"
FAILED_TAG = "failed"
# Pipelines (node tags) whose runs are about one hypothesis: their task is named after it.
HYPOTHESIS_TAGS = frozenset({"training", "evaluation"})
# Nodes with this tag start a ClearML task of their own per unit of work (a sweep's trials).
OWN_TASKS_TAG = "clearml_task_per_trial"
# Nodes with this tag run inside a task named after their namespace (a study's trainings):
# one task per study run, with its parameters and live curves.
NAMESPACE_TASK_TAG = "clearml_task_per_namespace"
# What a catalog entry's `metadata: {clearml: <kind>}` asks the hook to report.
REPORT_KINDS = frozenset({"image", "metrics", "model"})


def task_name(pipeline: Pipeline, pipeline_names: list[str] | None, hypothesis: str) -> str:
    """The hypothesis for a run that trains or evaluates, else ``eda (base)``.

    Round brackets: the console log (rich) would take square ones for markup and drop them.
    """
    if any(HYPOTHESIS_TAGS & node.tags for node in pipeline.nodes):
        return hypothesis
    return f"{'+'.join(pipeline_names or ['__default__'])} ({hypothesis})"


def continues_training_task(pipeline: Pipeline) -> bool:
    """An evaluation without training: it reports into the task that trained the model."""
    tags = set().union(*(node.tags for node in pipeline.nodes)) if pipeline.nodes else set()
    return "evaluation" in tags and "training" not in tags


def metrics_single_values(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The headline numbers of ``metrics.json``, named as the ClearML summary shows them."""
    names = {"mdice": "mDice", "fg_mdice": "foreground mDice", "miou": "mIoU"}
    values = {}
    for split in ("val", "test"):
        scores = metrics.get(split) or {}
        for key, name in names.items():
            value = scores.get(key)
            if value is not None and math.isfinite(value):
                values[f"{split} {name}"] = float(value)
    return values


def remote_command(run_params: Mapping[str, Any]) -> str:
    """The module and options a clearml-agent runs to repeat this ``kedro run``.

    ``tracking.execute_remotely`` is left out: the agent's run executes here-and-now.
    """
    options = ["--env", run_params.get("env") or "base"]
    if run_params.get("pipeline_names"):
        options += ["--pipelines", ",".join(run_params["pipeline_names"])]
    for option, key in (("--tags", "tags"), ("--nodes", "node_names")):
        if run_params.get(key):
            options += [option, ",".join(run_params[key])]
    runtime = {
        key: value
        for key, value in _dotted(run_params.get("runtime_params") or {})
        if key != "tracking.execute_remotely"
    }
    if runtime:
        options += ["--params", ",".join(f"{key}={value}" for key, value in runtime.items())]
    return shlex.join(["-m", PACKAGE, *options])


def project_requirements() -> list[str]:
    """The installed project's dependencies as pyproject.toml declares them, extras left out."""
    declared = importlib.metadata.requires(PACKAGE) or []
    return [requirement for requirement in declared if "extra ==" not in requirement]


def _dotted(params: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in params.items():
        if isinstance(value, Mapping):
            yield from _dotted(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _parameter_value(validated: Mapping[str, Any], dotted_name: str) -> Any:
    """``a.b.c`` of validated parameters, through dicts and Pydantic models alike."""
    value: Any = validated
    for part in dotted_name.split("."):
        value = value[part] if isinstance(value, Mapping) else getattr(value, part)
    return value


def use_connected_parameters(
    catalog: CatalogProtocol, pipeline: Pipeline, configured: dict, connected: dict
) -> None:
    """Makes the run use the parameters ``task.connect`` returned, validated as Kedro does.

    They differ from the configured ones when a clearml-agent runs a task whose
    parameters were edited in the UI; Kedro has already put the configured ones
    in the catalog (``parameters``, ``params:<a.b>``), so each is replaced.
    """
    if connected == configured:
        return
    validated = ParameterValidator({"run": pipeline}).validate_raw_params(connected)
    for name in list(catalog):
        if name == "parameters":
            catalog[name] = validated
        elif name.startswith("params:"):
            catalog[name] = _parameter_value(validated, name.removeprefix("params:"))
    logger.info("This run uses the parameters of its ClearML task, which differ from conf/")


def _plain(value: Any) -> Any:
    """A parameter as ClearML can connect it: validated models become dicts."""
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _report_kind(catalog: CatalogProtocol, dataset_name: str) -> str | None:
    metadata = getattr(catalog.get(dataset_name), "metadata", None) or {}
    kind = metadata.get("clearml")
    return kind if kind in REPORT_KINDS else None


class ClearMLTrackingHook:
    """Reports each Kedro run to ClearML; see the module docstring."""

    def __init__(self) -> None:
        self._tracking = TrackingParams()
        self._parameters: dict[str, Any] = {}
        self._catalog: CatalogProtocol | None = None
        self._task: Any = None
        self._node_task = ExitStack()

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        # The raw configuration: context.params holds the nodes' validated models.
        self._parameters = dict(context.config_loader["parameters"])
        try:
            self._tracking = TrackingParams.model_validate(self._parameters.get("tracking") or {})
        except ValidationError as error:
            raise BadInputError(
                f"The tracking parameters of env '{context.env}' are not valid "
                f"(parameters_tracking.yml): {error}"
            ) from error

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        self._task = None
        self._catalog = catalog
        # Under torchrun only global rank 0 saves the outputs, and reports them; a
        # sweep reports each trial to a task of its own.
        own_tasks = any({OWN_TASKS_TAG, NAMESPACE_TASK_TAG} & node.tags for node in pipeline.nodes)
        if not self._tracking.enabled or is_secondary_rank() or own_tasks:
            return
        env = run_params.get("env") or "base"
        hypothesis = str(self._parameters.get("hypothesis") or env)
        pipelines = run_params.get("pipeline_names") or ["__default__"]
        connected = self._parameters
        with self._reporting("start the ClearML task"):
            self._task = start_task(
                self._tracking,
                task_name(pipeline, run_params.get("pipeline_names"), hypothesis),
                tags=sorted({env, hypothesis, *pipelines}),
                continue_last=continues_training_task(pipeline),
            )
            self._task.connect(
                {
                    "env": env,
                    "hypothesis": hypothesis,
                    "pipelines": pipelines,
                    "run_id": run_params.get("run_id"),
                },
                name=RUN_SECTION,
            )
            connected = self._task.connect(self._parameters, name=PARAMETERS_SECTION)
        # Outside _reporting: parameters that fail validation stop the run. Kedro
        # calls no on_pipeline_error for a hook's error, so the task is closed here.
        try:
            use_connected_parameters(catalog, pipeline, self._parameters, connected)
        except Exception:
            self._close()
            raise
        if self._task is not None and self._tracking.execute_remotely:
            self._enqueue(run_params)

    def _enqueue(self, run_params: Mapping[str, Any]) -> None:
        """Hands the run to a clearml-agent queue; ClearML ends this process (status 0)."""
        queue = self._tracking.execute_remotely
        if self._task.is_offline():
            self._close()
            raise BadInputError(
                f"tracking.execute_remotely={queue} needs a ClearML server, and this run is "
                "tracked offline (see the log above for why): configure the server with "
                "`clearml-init` or CLEARML_API_HOST/ACCESS_KEY/SECRET_KEY."
            )
        command = remote_command(run_params)
        # The agent clones the recorded commit and diff, installs the project's declared
        # dependencies (ClearML would detect only the `kedro` script's imports) and runs
        # `python <command>` in src/, where the package imports and Kedro finds the project.
        self._task.set_packages(project_requirements())
        self._task.set_script(working_dir="src", entry_point=command)
        logger.info("Enqueued to ClearML queue '%s' as `python %s`", queue, command)
        self._task.execute_remotely(queue_name=queue, clone=False, exit_process=True)

    @hook_impl
    def before_node_run(self, node: Node, inputs: dict[str, Any]) -> None:
        if NAMESPACE_TASK_TAG not in node.tags or not self._tracking.enabled:
            return
        if is_secondary_rank() or not node.namespace:
            return
        parameters = {
            name.removeprefix("params:"): _plain(value)
            for name, value in inputs.items()
            if name.startswith("params:")
        }
        hypothesis = node.namespace.split(".")[0]
        self._node_task.enter_context(
            task_of_its_own(self._tracking, node.namespace, ["study", hypothesis], parameters)
        )

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        self._node_task.close()

    @hook_impl
    def on_node_error(self, node: Node) -> None:
        self._node_task.close()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        if self._task is None or self._catalog is None:
            return
        kind = _report_kind(self._catalog, dataset_name)
        if kind is None:
            return
        with self._reporting(f"report '{dataset_name}'"):
            if kind == "image":
                self._task.get_logger().report_matplotlib_figure(
                    title=dataset_name.removesuffix("_figure"),
                    series=dataset_name,
                    figure=data,
                    iteration=0,
                    report_image=True,
                )
            elif kind == "metrics":
                self._report_metrics(dataset_name, data)
            else:
                self._register_model(dataset_name, data)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self._close()

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        if self._task is None:
            return
        reason = f"{type(error).__name__}: {error}"
        with self._reporting("record the failure"):
            self._task.get_logger().report_text(f"Run failed: {reason}", level=logging.ERROR)
            # An offline session keeps the tags but not the status.
            self._task.add_tags([FAILED_TAG])
        task = self._task
        if task is None:
            return
        online = not task.is_offline()
        self._close()
        if online:
            with self._reporting("mark the task failed"):
                # After close, which marks the task completed.
                task.mark_failed(status_reason=reason, force=True)

    def _report_metrics(self, dataset_name: str, metrics: Mapping[str, Any]) -> None:
        self._task.upload_artifact(dataset_name, artifact_object=dict(metrics))
        task_logger = self._task.get_logger()
        for name, value in metrics_single_values(metrics).items():
            task_logger.report_single_value(name=name, value=value)

    def _register_model(self, dataset_name: str, segmenter: Segmenter) -> None:
        folder = Path(self._catalog.get(dataset_name).saved_folder())
        if self._task.is_offline():
            # ClearML's OutputModel cannot update weights offline; the saved folder
            # (weights, smp config, segmenter.json) goes into the session instead.
            self._task.upload_artifact(dataset_name, artifact_object=folder)
            return
        from clearml import OutputModel

        model = OutputModel(
            task=self._task,
            name=f"{segmenter.hypothesis} segmenter",
            framework="PyTorch",
            label_enumeration={name: index for index, name in enumerate(segmenter.class_names)},
        )
        model.update_design(config_dict=segmenter.metadata())
        model.update_weights(weights_filename=str(folder / WEIGHTS_FILE), auto_delete_file=False)

    def _close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            with self._reporting("close the ClearML task"):
                close_task(task)

    @contextmanager
    def _reporting(self, action: str) -> Iterator[None]:
        """Runs a ClearML call; its failure is a warning and ends tracking for the run."""
        try:
            yield
        except Exception as error:
            logger.warning(
                "ClearML tracking is off for the rest of this run: could not %s (%s: %s)",
                action,
                type(error).__name__,
                error,
            )
            task, self._task = self._task, None
            if task is not None:
                try:
                    task.close()
                except Exception:  # noqa: BLE001 - the warning above already says tracking is off
                    logger.debug("Closing the ClearML task failed too", exc_info=True)
