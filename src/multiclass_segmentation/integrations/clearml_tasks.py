"""ClearML tasks without Kedro: starting one (online or offline), live training scalars, closing.

The Kedro hook in tracking.py starts one task per run with these; a sweep
starts one per trial. Training reports to whichever task is current
(``Task.current_task()``) through :class:`LiveScalars`, so a run with no task
reports nothing and never imports more than ClearML's module.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lightning as L

from multiclass_segmentation.config.tracking import TrackingParams
from multiclass_segmentation.io.network import flag_set, host_reachable

logger = logging.getLogger(__name__)

STEP_LOSS_TITLE = "train loss (per step)"


def server_reachable(url: str, timeout_s: float) -> bool:
    """Whether a TCP connection to the URL's host and port opens within ``timeout_s``."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return host_reachable(parts.hostname, port, timeout_s)


def offline_forced() -> bool:
    """``CLEARML_OFFLINE_MODE`` set to a true value, as ClearML itself reads it."""
    return flag_set("CLEARML_OFFLINE_MODE")


def keys_configured() -> bool:
    """Whether ClearML has keys: ``CLEARML_API_*`` variables or ``clearml.conf``.

    These are ClearML's own settings, read whatever the Kedro environment; keys
    in ``conf/local`` would be missed by ``kedro run --env <hypothesis>``.
    """
    from clearml.config import config_obj

    if os.environ.get("CLEARML_AUTH_TOKEN"):
        return True
    access_key = os.environ.get("CLEARML_API_ACCESS_KEY") or config_obj.get(
        "api.credentials.access_key", None
    )
    secret_key = os.environ.get("CLEARML_API_SECRET_KEY") or config_obj.get(
        "api.credentials.secret_key", None
    )
    return bool(access_key and secret_key)


def _api_host(tracking: TrackingParams) -> str:
    from clearml.backend_api.session import Session

    return tracking.api_host or Session.get_api_server_host()


def _online_server(tracking: TrackingParams) -> str | None:
    """The API server to report to, or None (with the reason logged) to track offline."""
    if offline_forced():
        logger.info("CLEARML_OFFLINE_MODE is set: ClearML tracks this run offline")
        return None
    if not keys_configured():
        logger.info(
            "No ClearML keys (clearml.conf or CLEARML_API_ACCESS_KEY/SECRET_KEY): "
            "ClearML tracks this run offline"
        )
        return None
    api_host = _api_host(tracking)
    if not server_reachable(api_host, tracking.connect_timeout_s):
        logger.warning(
            "ClearML server %s did not answer within %.0f s: this run is tracked offline",
            api_host,
            tracking.connect_timeout_s,
        )
        return None
    return api_host


def start_task(
    tracking: TrackingParams, name: str, tags: Sequence[str], continue_last: bool = False
) -> Any:
    """A new ClearML task, online when a server answers, else in an offline session.

    ``continue_last`` reopens the last task of this name (online only: an offline
    session cannot be reopened), so a later evaluation joins its training's task.
    """
    from clearml import Task
    from clearml.config import config as sdk_config
    from clearml.config import config_obj

    # Reporting in threads, not in a subprocess that Task.close waits ~10 s for.
    config_obj.set_overrides({"sdk": {"development": {"report_use_subprocess": False}}})
    sdk_config.clear_config_impl()
    api_host = _online_server(tracking)
    if api_host is not None:
        try:
            Task.set_credentials(
                api_host=api_host, web_host=tracking.web_host, files_host=tracking.files_host
            )
            Task.set_offline(False)
            return _init_task(tracking, name, tags, continue_last)
        except Exception as error:
            logger.warning(
                "ClearML server %s refused this run (%s: %s): it is tracked offline",
                api_host,
                type(error).__name__,
                error,
            )
    Task.set_offline(True)
    return _init_task(tracking, name, tags, continue_last=False)


def _init_task(
    tracking: TrackingParams, name: str, tags: Sequence[str], continue_last: bool
) -> Any:
    from clearml import Task

    return Task.init(
        project_name=tracking.project,
        task_name=name,
        tags=list(tags),
        reuse_last_task_id=continue_last,
        continue_last_task=continue_last,
        # Scalars come from LiveScalars; the torch binding would upload every
        # checkpoint and the matplotlib one every figure a second time.
        auto_connect_frameworks=False,
        # Kedro's options are recorded in the "kedro run" section instead.
        auto_connect_arg_parser=False,
        auto_resource_monitoring=tracking.resource_monitoring,
        auto_connect_streams=tracking.console,
    )


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


def close_task(task: Any) -> None:
    """Closes the task; for an offline one, logs where its session archive is."""
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


def _finite(values: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[str, str, float]]:
    for title, series, value in values:
        if value is not None and math.isfinite(value):
            yield title, series, float(value)


def validation_scalars(scores: Mapping[str, Any]) -> Iterator[tuple[str, str, float]]:
    """(title, series, value) of every finite score of one validation epoch."""
    values = [
        ("val mDice", "all classes", scores.get("mdice")),
        ("val mDice", "foreground", scores.get("fg_mdice")),
    ]
    values += [("val Dice", name, dice) for name, dice in (scores.get("dice") or {}).items()]
    return _finite(iter(values))


def training_scalars(epoch: Mapping[str, Any]) -> Iterator[tuple[str, str, float]]:
    """(title, series, value) of an ``EpochHistory`` entry's loss, learning rate and time."""
    values = [
        ("train loss", "train", epoch.get("train_loss")),
        ("learning rate", "lr", epoch.get("lr")),
        ("epoch time", "seconds", epoch.get("seconds")),
    ]
    return _finite(iter(values))


def _current_task_logger() -> Any:
    from clearml import Task

    task = Task.current_task()
    return None if task is None else task.get_logger()


class LiveScalars(L.Callback):
    """Reports training to the current ClearML task while it runs.

    The loss every ``trainer.log_every_n_steps`` optimizer steps; the validation
    scores as soon as validation ends (before a pruning callback may stop the
    run); each epoch's loss, learning rate and time from the trainer's
    ``EpochHistory``, once it has recorded the epoch (it precedes this callback).
    Only global zero reports.
    """

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, idx: int
    ) -> None:
        step = trainer.global_step
        if step % trainer.log_every_n_steps:
            return
        loss = outputs["loss"] if isinstance(outputs, Mapping) else outputs
        if loss is not None:
            self._report(trainer, [(STEP_LOSS_TITLE, "train", float(loss))], step)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        scores = getattr(pl_module, "last_val_scores", None) or {}
        self._report(trainer, validation_scalars(scores), trainer.current_epoch + 1)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        epoch = _epoch_just_recorded(trainer)
        if epoch is not None:
            self._report(trainer, training_scalars(epoch), int(epoch["epoch"]))

    @staticmethod
    def _report(trainer: L.Trainer, scalars: Any, iteration: int) -> None:
        task_logger = _current_task_logger() if trainer.is_global_zero else None
        if task_logger is not None:
            for title, series, value in scalars:
                task_logger.report_scalar(title, series, value, iteration=iteration)


def _epoch_just_recorded(trainer: L.Trainer) -> Mapping[str, Any] | None:
    """The entry of the trainer's EpochHistory for the epoch ending now, if it has one."""
    # Imported here: every `kedro run` imports this module (the hook), most never train.
    from multiclass_segmentation.core.module import EpochHistory

    histories = [c for c in trainer.callbacks if isinstance(c, EpochHistory)]
    if not histories or not histories[0].epochs:
        return None
    epoch = histories[0].epochs[-1]
    return epoch if epoch["epoch"] == trainer.current_epoch + 1 else None


def tracking_callbacks() -> list[L.Callback]:
    """The Lightning callbacks that report a training to ClearML, for its caller to hand to
    ``fit_segmenter``: whichever task is current when it runs (the run's, a trial's) gets
    its curves, and with no task they report nothing."""
    return [LiveScalars()]


@contextmanager
def task_of_its_own(
    tracking: TrackingParams,
    name: str,
    tags: Sequence[str],
    parameters: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """A task for one unit of work inside a run (a sweep's trial), closed when it ends.

    Yields None when tracking is off or ClearML fails to start: like the run's
    task, tracking never stops the work.
    """
    task = None
    if tracking.enabled:
        try:
            task = start_task(tracking, name, tags)
            if parameters is not None:
                task.connect(dict(parameters), name="parameters")
        except Exception as error:
            logger.warning("No ClearML task for '%s' (%s: %s)", name, type(error).__name__, error)
            task = None
    try:
        yield task
    finally:
        if task is not None:
            try:
                close_task(task)
            except Exception as error:
                logger.warning("Closing the ClearML task '%s' failed (%s)", name, error)
