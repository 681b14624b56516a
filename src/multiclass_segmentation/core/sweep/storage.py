"""The study in its Optuna storage: opened by the first worker, joined by the others."""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
import zlib
from pathlib import Path

import optuna
import sqlalchemy

from multiclass_segmentation.config.sweep import PrunerParams, SweepParams
from multiclass_segmentation.errors import BadInputError

logger = logging.getLogger(__name__)

HOST = socket.gethostname()
WORKER = f"{HOST}:{os.getpid()}"
STORAGE_ATTEMPTS = 3


def storage_url(sweep: SweepParams) -> str:
    """``sweep.storage``, or the embedded SQLite file (its folder created)."""
    if sweep.storage:
        return sweep.storage
    path = Path(sweep.embedded_storage_dir) / f"{sweep.study_name}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"


def shown_url(url: str) -> str:
    """The storage URL without its password, for logs and reports."""
    return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)


def _pruner(pruner: PrunerParams) -> optuna.pruners.BasePruner:
    if pruner.name == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=pruner.n_startup_trials, n_warmup_steps=pruner.n_warmup_steps
        )
    if pruner.name == "threshold":
        return optuna.pruners.ThresholdPruner(
            lower=pruner.lower, upper=pruner.upper, n_warmup_steps=pruner.n_warmup_steps
        )
    return optuna.pruners.NopPruner()


def _sampler_seed(sweep: SweepParams, trials_so_far: int) -> int:
    """``sweep.seed`` for a new study; a later or parallel worker must not repeat its proposals."""
    seed = sweep.seed + trials_so_far
    if sweep.storage is not None:  # workers that start together see the same trials
        seed += zlib.crc32(WORKER.encode())
    return seed


def open_study(sweep: SweepParams) -> optuna.Study:
    """The study in its storage, created by the first worker and joined by the others."""
    url = storage_url(sweep)
    for attempt in range(1, STORAGE_ATTEMPTS + 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = optuna.storages.RDBStorage(
                    url,
                    heartbeat_interval=sweep.heartbeat_seconds,
                    grace_period=2 * sweep.heartbeat_seconds,
                )
            study = optuna.create_study(
                study_name=sweep.study_name,
                storage=storage,
                pruner=_pruner(sweep.pruner),
                direction="maximize",
                load_if_exists=True,
            )
            break
        except sqlalchemy.exc.SQLAlchemyError as error:
            # Workers starting together race to create the tables; the loser retries.
            if attempt == STORAGE_ATTEMPTS:
                raise BadInputError(
                    f"sweep.storage {shown_url(url)}: cannot open study "
                    f"'{sweep.study_name}' ({type(error).__name__}: {error}). Check that the "
                    "database server runs and the URL, user and database are right."
                ) from error
            logger.warning("Opening the study failed (%s); trying again", type(error).__name__)
            time.sleep(attempt)
    seed = _sampler_seed(sweep, len(study.get_trials(deepcopy=False)))
    study.sampler = optuna.samplers.TPESampler(seed=seed)
    return study


def load_study(sweep: SweepParams) -> optuna.Study:
    """The study as it is now, with every worker's trials."""
    return optuna.load_study(study_name=sweep.study_name, storage=storage_url(sweep))
