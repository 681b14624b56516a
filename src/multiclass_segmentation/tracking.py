"""Experiment tracking in ClearML, as a Kedro hook: nodes never call ClearML.

One ClearML task per ``kedro run``, named after the pipeline and the hypothesis
(``training (base)``). It holds the merged parameters, the per-epoch scalars of
``training_history``, every ``*_figure`` image, ``metrics`` (artifact and single
values) and the trained model. Without a reachable server the task is kept in
ClearML's offline mode and the run logs where the session archive is.

Tracking never breaks a run: a ClearML error is logged as a warning and tracking
is off for the rest of that run.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import socket
import threading
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol
from kedro.pipeline import Node, Pipeline
from pydantic import Field, ValidationError

from multiclass_segmentation.distributed import is_secondary_rank
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.params.common import StrictModel

if TYPE_CHECKING:
    from multiclass_segmentation.segmenter import Segmenter

logger = logging.getLogger(__name__)

FIGURE_SUFFIX = "_figure"
HISTORY_DATASET = "training_history"
METRICS_DATASET = "metrics"
MODEL_DATASET = "trained_model"
# smp's save_pretrained writes its weights under huggingface_hub's file name.
WEIGHTS_FILE = "model.safetensors"
PARAMETERS_SECTION = "parameters"
FAILED_TAG = "failed"
_TRUE_WORDS = {"1", "true", "yes", "on"}


class ClearMLSettings(StrictModel):
    """``conf/<env>/clearml.yml``: whether and where runs are tracked."""

    enabled: bool = True
    project: str = "multiclass_segmentation"
    api_host: str | None = None
    web_host: str | None = None
    files_host: str | None = None
    connect_timeout_s: float = Field(default=3.0, gt=0)


@dataclass(frozen=True)
class ServerSettings:
    """A ClearML server and the keys to it; the SDK's own settings fill what is None."""

    api_host: str
    web_host: str | None
    files_host: str | None
    access_key: str | None
    secret_key: str | None


def server_reachable(url: str, timeout_s: float) -> bool:
    """Whether a TCP connection to the URL's host and port opens within ``timeout_s``.

    The connect runs in a daemon thread so that a slow name lookup, which has
    no timeout of its own, cannot hold the run either.
    """
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    reachable: list[bool] = []
    finished = threading.Event()

    def connect() -> None:
        try:
            with socket.create_connection((parts.hostname, port), timeout=timeout_s):
                reachable.append(True)
        except OSError:
            pass
        finally:
            finished.set()

    threading.Thread(target=connect, name="clearml-server-probe", daemon=True).start()
    finished.wait(timeout_s)
    return bool(reachable)


def offline_forced() -> bool:
    """``CLEARML_OFFLINE_MODE`` set to a true value, as ClearML itself reads it."""
    return os.environ.get("CLEARML_OFFLINE_MODE", "").strip().lower() in _TRUE_WORDS


def clearml_conf_keys() -> tuple[str | None, str | None]:
    """The access and secret key of ClearML's own ``clearml.conf``, if it has them."""
    from clearml.config import config_obj

    return (
        config_obj.get("api.credentials.access_key", None) or None,
        config_obj.get("api.credentials.secret_key", None) or None,
    )


def configured_server(
    settings: ClearMLSettings, credentials: Mapping[str, Any]
) -> ServerSettings | None:
    """The server to report to, or None when no keys are configured anywhere.

    Keys come from ``credentials.yml`` (``clearml.access_key``/``secret_key``),
    else from ClearML's environment variables or ``clearml.conf``; the host from
    ``clearml.yml``, else from ClearML (``CLEARML_API_HOST``, ``clearml.conf``).
    """
    from clearml.backend_api.session import Session

    conf_access_key, conf_secret_key = clearml_conf_keys()
    access_key = (
        credentials.get("access_key") or os.environ.get("CLEARML_API_ACCESS_KEY") or conf_access_key
    )
    secret_key = (
        credentials.get("secret_key") or os.environ.get("CLEARML_API_SECRET_KEY") or conf_secret_key
    )
    if not (access_key and secret_key) and not os.environ.get("CLEARML_AUTH_TOKEN"):
        return None
    return ServerSettings(
        api_host=settings.api_host or Session.get_api_server_host(),
        web_host=settings.web_host,
        files_host=settings.files_host,
        access_key=credentials.get("access_key"),
        secret_key=credentials.get("secret_key"),
    )


def task_name(pipeline_names: Sequence[str] | None, hypothesis: str) -> str:
    """``training (base)``: the pipelines run and the hypothesis they ran for.

    Round brackets: the console log (rich) would take square ones for markup and drop them.
    """
    return f"{'+'.join(pipeline_names or ['__default__'])} ({hypothesis})"


def history_scalars(history: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, str, float, int]]:
    """(title, series, value, epoch) of every finite per-epoch value in ``training_history``."""
    for epoch in history:
        iteration = int(epoch["epoch"])
        values = [
            ("train loss", "train", epoch.get("train_loss")),
            ("learning rate", "lr", epoch.get("lr")),
            ("val mDice", "all classes", epoch.get("val_mdice")),
            ("val mDice", "foreground", epoch.get("val_fg_mdice")),
            ("epoch time", "seconds", epoch.get("seconds")),
        ]
        values += [("val Dice", name, dice) for name, dice in (epoch.get("val_dice") or {}).items()]
        for title, series, value in values:
            if value is not None and math.isfinite(value):
                yield title, series, float(value), iteration


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


def keep_offline_archive(session_folder: Path) -> Path | None:
    """The zip ``Task.close`` writes next to an offline session's folder, or None.

    The folder is removed once the zip is complete: it holds the same files
    (the model among them) and ``Task.import_offline_session`` reads the zip.
    """
    archive = session_folder.with_name(f"{session_folder.name}.zip")
    if not zipfile.is_zipfile(archive):
        return None
    shutil.rmtree(session_folder, ignore_errors=True)
    return archive


def _saved_path(catalog: CatalogProtocol, dataset_name: str) -> Path:
    """Where a dataset wrote its data in this run, its version folder included.

    Kedro has no public accessor for the path a versioned dataset saved to.
    """
    return Path(catalog[dataset_name]._get_load_path())


def _optional_config(context: KedroContext, key: str) -> dict[str, Any]:
    try:
        return dict(context.config_loader[key])
    except MissingConfigException:
        return {}


class ClearMLTrackingHook:
    """Reports each Kedro run to ClearML; see the module docstring."""

    def __init__(self) -> None:
        self._settings = ClearMLSettings()
        self._credentials: dict[str, Any] = {}
        self._parameters: dict[str, Any] = {}
        self._catalog: CatalogProtocol | None = None
        self._task: Any = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        try:
            self._settings = ClearMLSettings.model_validate(_optional_config(context, "clearml"))
        except ValidationError as error:
            raise BadInputError(
                f"clearml.yml of env '{context.env}' is not valid: {error}"
            ) from error
        self._credentials = dict(_optional_config(context, "credentials").get("clearml") or {})
        # The raw configuration: context.params holds the nodes' validated models.
        self._parameters = dict(context.config_loader["parameters"])

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        self._task = None
        self._catalog = catalog
        # Under torchrun only global rank 0 saves the outputs, and reports them.
        if not self._settings.enabled or is_secondary_rank():
            return
        env = run_params.get("env") or "base"
        hypothesis = str(self._parameters.get("hypothesis") or env)
        with self._tracking("start the ClearML task"):
            self._task = self._start_task(
                task_name(run_params.get("pipeline_names"), hypothesis),
                tags=sorted({env, hypothesis}),
            )
            self._task.connect(
                {
                    "env": env,
                    "hypothesis": hypothesis,
                    "pipelines": run_params.get("pipeline_names") or ["__default__"],
                    "run_id": run_params.get("run_id"),
                },
                name="kedro run",
            )
            self._task.connect(self._parameters, name=PARAMETERS_SECTION)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        if self._task is None:
            return
        with self._tracking(f"report '{dataset_name}'"):
            if dataset_name == HISTORY_DATASET:
                self._report_history(data)
            elif dataset_name == METRICS_DATASET:
                self._report_metrics(data)
            elif dataset_name == MODEL_DATASET:
                self._register_model(dataset_name, data)
            elif dataset_name.endswith(FIGURE_SUFFIX):
                self._task.get_logger().report_image(
                    title=dataset_name.removesuffix(FIGURE_SUFFIX),
                    series=dataset_name,
                    iteration=0,
                    local_path=str(_saved_path(self._catalog, dataset_name)),
                )

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self._close()

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        if self._task is None:
            return
        reason = f"{type(error).__name__}: {error}"
        with self._tracking("record the failure"):
            self._task.get_logger().report_text(f"Run failed: {reason}", level=logging.ERROR)
            # An offline session keeps the tags but not the status.
            self._task.add_tags([FAILED_TAG])
        task = self._task
        if task is None:
            return
        online = not task.is_offline()
        self._close()
        if online:
            with self._tracking("mark the task failed"):
                # After close, which marks the task completed.
                task.mark_failed(status_reason=reason, force=True)

    def _start_task(self, name: str, tags: list[str]) -> Any:
        from clearml import Task
        from clearml.config import config as sdk_config
        from clearml.config import config_obj

        # Reporting in threads, not in a subprocess that Task.close waits ~10 s for.
        config_obj.set_overrides({"sdk": {"development": {"report_use_subprocess": False}}})
        sdk_config.clear_config_impl()
        server = self._reachable_server()
        if server is not None:
            try:
                Task.set_credentials(
                    api_host=server.api_host,
                    web_host=server.web_host,
                    files_host=server.files_host,
                    key=server.access_key,
                    secret=server.secret_key,
                )
                Task.set_offline(False)
                return self._init_task(name, tags)
            except Exception as error:
                logger.warning(
                    "ClearML server %s refused this run (%s: %s): it is tracked offline",
                    server.api_host,
                    type(error).__name__,
                    error,
                )
        Task.set_offline(True)
        return self._init_task(name, tags)

    def _init_task(self, name: str, tags: list[str]) -> Any:
        from clearml import Task

        return Task.init(
            project_name=self._settings.project,
            task_name=name,
            tags=tags,
            reuse_last_task_id=False,
            # Kedro reports what matters; framework patches would slow training.
            auto_connect_frameworks=False,
            auto_connect_arg_parser=False,
            auto_resource_monitoring=False,
            auto_connect_streams=False,
        )

    def _reachable_server(self) -> ServerSettings | None:
        if offline_forced():
            logger.info("CLEARML_OFFLINE_MODE is set: ClearML tracks this run offline")
            return None
        server = configured_server(self._settings, self._credentials)
        if server is None:
            logger.info("No ClearML credentials configured: ClearML tracks this run offline")
            return None
        if not server_reachable(server.api_host, self._settings.connect_timeout_s):
            logger.warning(
                "ClearML server %s did not answer within %.0f s: this run is tracked offline",
                server.api_host,
                self._settings.connect_timeout_s,
            )
            return None
        return server

    def _report_history(self, history: Sequence[Mapping[str, Any]]) -> None:
        task_logger = self._task.get_logger()
        for title, series, value, epoch in history_scalars(history):
            task_logger.report_scalar(title=title, series=series, value=value, iteration=epoch)

    def _report_metrics(self, metrics: Mapping[str, Any]) -> None:
        self._task.upload_artifact(METRICS_DATASET, artifact_object=dict(metrics))
        task_logger = self._task.get_logger()
        for name, value in metrics_single_values(metrics).items():
            task_logger.report_single_value(name=name, value=value)

    def _register_model(self, dataset_name: str, segmenter: Segmenter) -> None:
        folder = _saved_path(self._catalog, dataset_name)
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
        if task is None:
            return
        with self._tracking("close the ClearML task"):
            session_folder = task.get_offline_mode_folder() if task.is_offline() else None
            task.close()
            if session_folder is None:
                return
            archive = keep_offline_archive(Path(session_folder))
            if archive is None:
                logger.warning(
                    "ClearML wrote no offline archive for '%s'; its session is in %s",
                    task.name,
                    session_folder,
                )
                return
            logger.info(
                "ClearML offline session of '%s' saved to %s; upload it with "
                "Task.import_offline_session('%s')",
                task.name,
                archive,
                archive,
            )

    @contextmanager
    def _tracking(self, action: str) -> Iterator[None]:
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
