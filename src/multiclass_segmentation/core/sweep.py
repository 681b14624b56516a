"""Hyper-parameter sweeps of the training parameters with Optuna.

A trial trains the sweep's ``training`` parameters with ``sweep.trial_overrides``
and the values Optuna samples at the search space's paths, through
:func:`training_run.fit_segmenter`; its value is the best validation mDice of its
epochs, and Optuna's Lightning callback prunes it after an epoch that looks
hopeless. The study lives in an Optuna storage (an SQLite file by default, or a
database that several workers share), so a sweep can be continued and scaled
out by running the same command again, elsewhere. Never imports kedro.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
import warnings
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import sqlalchemy
import yaml
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from optuna.trial import FrozenTrial, TrialState
from optuna_integration import PyTorchLightningPruningCallback
from pydantic import ValidationError

from multiclass_segmentation.analysis.model_selection import best_epoch
from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.sweep import (
    CategoricalDimension,
    Dimension,
    PrunerParams,
    SweepParams,
    path_keys,
)
from multiclass_segmentation.config.tracking import TrackingParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.training_run import (
    check_buildable,
    fit_segmenter,
    resolve_class_weights,
)
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.integrations.clearml_tasks import task_of_its_own

logger = logging.getLogger(__name__)

OBJECTIVE = "val_mdice"  # what SegmentationModule logs after each validation epoch
HOST = socket.gethostname()
WORKER = f"{HOST}:{os.getpid()}"
# Training parameters that say where or how a run runs: never part of a hypothesis.
NOT_HYPOTHESIS = ("checkpoint_dir", "resume")
STORAGE_ATTEMPTS = 3


@dataclass(frozen=True)
class SweepInputs:
    """What every trial trains on: the training node's inputs."""

    train: pd.DataFrame
    val: pd.DataFrame
    dataset: DatasetParams
    suggested_class_weights: dict[str, Any]
    training: TrainingParams
    classes: ClassesParams
    hypothesis: str


TrialRunner = Callable[[optuna.Trial, SweepInputs, SweepParams], float]


# Trial parameters -------------------------------------------------------------------------


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` over ``base`` key by key, as Kedro's soft merge does: lists are replaced."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _parent(tree: dict[str, Any], path: str) -> tuple[Any, str | int]:
    """The mapping or list that holds ``path``'s last key, and that key."""
    keys = path_keys(path)
    node: Any = tree
    for depth, key in enumerate(keys[:-1]):
        node = _child(node, key, path, ".".join(map(str, keys[: depth + 1])))
    last = keys[-1]
    if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
        _missing(path, path, node)
    if not isinstance(node, dict | list):
        raise BadInputError(
            f"sweep.search_space path '{path}': training.{'.'.join(map(str, keys[:-1]))} is "
            f"{node!r}, not a mapping or list"
        )
    return node, last


def _child(node: Any, key: str | int, path: str, prefix: str) -> Any:
    if isinstance(node, dict) and key in node:
        return node[key]
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    _missing(path, prefix, node)
    return None


def _missing(path: str, prefix: str, node: Any) -> None:
    there = f"keys {sorted(node)}" if isinstance(node, dict) else f"{len(node)} list items"
    raise BadInputError(
        f"sweep.search_space path '{path}': the training parameters have no '{prefix}' "
        f"(there: {there}); fix the path in parameters_sweep.yml."
    )


def value_at(tree: dict[str, Any], path: str) -> Any:
    """The value at a dotted path; BadInputError naming the path when it is not there."""
    node, last = _parent(tree, path)
    if isinstance(node, dict) and last not in node:
        _missing(path, path, node)
    return node[last]


def trial_training(
    training: TrainingParams, overrides: Mapping[str, Any], values: Mapping[str, Any]
) -> TrainingParams:
    """``training`` with ``overrides`` merged in and each value set at its path, validated."""
    tree = deep_merge(training.model_dump(mode="json"), overrides)
    tree["resume"] = False  # a trial is always a run of its own
    for path, value in values.items():
        node, last = _parent(tree, path)
        node[last] = value
    try:
        training = TrainingParams.model_validate(tree)
        check_buildable(training)
        return training
    except (ValidationError, BadInputError) as error:
        setting = ", ".join(f"{p}={v!r}" for p, v in values.items()) or "sweep.trial_overrides"
        raise BadInputError(
            f"sweep: {setting} does not make valid training parameters; fix "
            f"sweep.search_space or sweep.trial_overrides:\n{error}"
        ) from error


def _probe_values(dimension: Dimension) -> list[Any]:
    if isinstance(dimension, CategoricalDimension):
        return list(dimension.choices)
    return [dimension.low, dimension.high]


def check_search_space(training: TrainingParams, sweep: SweepParams) -> None:
    """Every path exists and every choice and bound gives valid training parameters.

    Runs before the first trial, so a typo stops the sweep in seconds, not after hours.
    """
    trial_training(training, sweep.trial_overrides, {})
    for dimension in sweep.search_space:
        for value in _probe_values(dimension):
            trial_training(training, sweep.trial_overrides, {dimension.path: value})


def base_values(training: TrainingParams, sweep: SweepParams) -> dict[str, Any] | None:
    """The searched parameters' values in the trials' base, or None when one is off the space."""
    tree = trial_training(training, sweep.trial_overrides, {}).model_dump(mode="json")
    values = {}
    for dimension in sweep.search_space:
        try:
            value = value_at(tree, dimension.path)
        except BadInputError:
            return None
        inside = (
            value in dimension.choices
            if isinstance(dimension, CategoricalDimension)
            else isinstance(value, int | float) and dimension.low <= value <= dimension.high
        )
        if not inside:
            logger.warning(
                "The base value %r of %s is outside the search space: the base is not trial 0",
                value,
                dimension.path,
            )
            return None
        values[dimension.path] = value
    return values


def sample(trial: optuna.Trial, search_space: list[Dimension]) -> dict[str, Any]:
    """One value per dimension, named by its path."""
    values = {}
    for d in search_space:
        if d.type == "float":
            values[d.path] = trial.suggest_float(d.path, d.low, d.high, log=d.log, step=d.step)
        elif d.type == "int":
            values[d.path] = trial.suggest_int(d.path, d.low, d.high, log=d.log, step=d.step)
        else:
            values[d.path] = trial.suggest_categorical(d.path, d.choices)
    return values


# The study --------------------------------------------------------------------------------


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


def run_trial(trial: optuna.Trial, inputs: SweepInputs, sweep: SweepParams) -> float:
    """One trial, one training run: its best validation mDice; raises TrialPruned when pruned.

    The one call per trial, so per-trial tracking can wrap it (``run_sweep``'s
    ``trial_runner``). Its checkpoints go to
    ``<training.checkpoint_dir>/sweep-<study>/trial-<number>/``.
    """
    trial.set_user_attr("worker", WORKER)
    trial.set_user_attr("host", HOST)
    folder = Path(
        inputs.training.checkpoint_dir, f"sweep-{sweep.study_name}", f"trial-{trial.number}"
    )
    overrides = {**sweep.trial_overrides, "checkpoint_dir": str(folder)}
    training = trial_training(inputs.training, overrides, sample(trial, sweep.search_space))
    class_weights = resolve_class_weights(training, inputs.classes, inputs.suggested_class_weights)
    pruning = PyTorchLightningPruningCallback(trial, monitor=OBJECTIVE)
    _, history = fit_segmenter(
        inputs.train,
        inputs.val,
        inputs.dataset,
        class_weights,
        training,
        inputs.classes,
        inputs.hypothesis,
        extra_callbacks=[pruning],
    )
    pruning.check_pruned()  # the DDP case: a spawned process decided
    trial.set_user_attr("epochs_run", len(history))
    best = best_epoch(history)
    return float(best[OBJECTIVE]) if best else math.nan


def tracked_trials(tracking: TrackingParams, runner: TrialRunner = run_trial) -> TrialRunner:
    """``runner`` with each trial in a ClearML task of its own (``clearml_tasks``).

    The task gets the trial's live training curves (its training reports to the
    current task), then its sampled values, its result and a ``pruned`` tag.
    """

    def run(trial: optuna.Trial, inputs: SweepInputs, sweep: SweepParams) -> float:
        name = f"{sweep.study_name} trial {trial.number}"
        with task_of_its_own(tracking, name, tags=["sweep", sweep.study_name]) as task:
            try:
                value = runner(trial, inputs, sweep)
            except optuna.TrialPruned:
                _record_trial(task, trial, None)
                raise
            _record_trial(task, trial, value)
            return value

    return run


def _record_trial(task: Any, trial: optuna.Trial, value: float | None) -> None:
    """The trial's values and result in its task; a ClearML error is only a warning."""
    if task is None:
        return
    try:
        task.connect({"number": trial.number, **trial.params}, name="trial")
        if value is None:
            task.add_tags(["pruned"])
        elif math.isfinite(value):
            task.get_logger().report_single_value(name="best val mDice", value=value)
    except Exception as error:
        logger.warning("Trial %d: ClearML did not take its result (%s)", trial.number, error)


def _enqueue_base(study: optuna.Study, inputs: SweepInputs, sweep: SweepParams) -> None:
    # Only into a new study: the base is measured once, by whichever worker takes it.
    if study.get_trials(deepcopy=False):
        return
    values = base_values(inputs.training, sweep)
    if values is not None:
        study.enqueue_trial(values, user_attrs={"base": True}, skip_if_exists=True)


def run_sweep(
    inputs: SweepInputs, sweep: SweepParams, trial_runner: TrialRunner = run_trial
) -> optuna.Study:
    """Runs this worker's budget of trials in the study; returns the study."""
    check_search_space(inputs.training, sweep)
    study = open_study(sweep)
    logger.info(
        "Sweep '%s' in %s, worker %s: %s trials, %s minutes at most",
        sweep.study_name,
        shown_url(storage_url(sweep)),
        WORKER,
        sweep.n_trials or "any number of",
        sweep.timeout_minutes or "no limit in",
    )
    if sweep.include_base:
        _enqueue_base(study, inputs, sweep)
    study.optimize(
        lambda trial: trial_runner(trial, inputs, sweep),
        n_trials=sweep.n_trials,
        timeout=None if sweep.timeout_minutes is None else sweep.timeout_minutes * 60,
        gc_after_trial=True,
    )
    return study


# Results ----------------------------------------------------------------------------------


def _trial_record(trial: FrozenTrial) -> dict[str, Any]:
    duration = trial.duration
    return {
        "number": trial.number,
        "state": trial.state.name,
        "params": trial.params,
        "value": trial.value,
        "epochs_run": trial.user_attrs.get("epochs_run", len(trial.intermediate_values)),
        "seconds": None if duration is None else round(duration.total_seconds(), 2),
        "worker": trial.user_attrs.get("worker"),
        "host": trial.user_attrs.get("host"),
        "base": bool(trial.user_attrs.get("base")),
    }


def summarize(study: optuna.Study, sweep: SweepParams, worker: str = WORKER) -> dict[str, Any]:
    """Every trial of the study as it is now, the best one and the base one."""
    trials = [_trial_record(t) for t in study.get_trials(deepcopy=False)]
    complete = [t for t in trials if t["state"] == "COMPLETE" and t["value"] is not None]
    complete = [t for t in complete if math.isfinite(t["value"])]
    base = next((t for t in trials if t["base"]), None)
    states = [t["state"] for t in trials]
    return {
        "study_name": sweep.study_name,
        "storage": shown_url(storage_url(sweep)),
        "objective": f"{OBJECTIVE} (best epoch of the trial), maximised",
        "trial_overrides": sweep.trial_overrides,
        "search_space": [d.model_dump(mode="json") for d in sweep.search_space],
        "pruner": sweep.pruner.model_dump(mode="json"),
        "states": {state: states.count(state) for state in sorted(set(states))},
        "trials": trials,
        "best_trial": max(complete, key=lambda t: t["value"]) if complete else None,
        "base_trial": base,
        "worker": worker,
        "trials_of_this_worker": [t["number"] for t in trials if t["worker"] == worker],
    }


def _plot(plot: Callable[[optuna.Study], Any], study: optuna.Study) -> Figure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        axes = plot(study)
    figure = axes.figure
    figure.set_size_inches(8, 4.5)
    return figure


def _note(title: str, text: str) -> Figure:
    figure, axes = plt.subplots(figsize=(8, 4.5))
    axes.set_axis_off()
    axes.set_title(title)
    axes.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return figure


def history_figure(study: optuna.Study) -> Figure:
    """Optuna's optimisation history: each trial's value and the best so far."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return _note("Optimization History Plot", "No complete trial yet.")
    return _plot(optuna.visualization.matplotlib.plot_optimization_history, study)


def importance_figure(study: optuna.Study) -> Figure:
    """Optuna's parameter importances (fANOVA), or a note when there are too few trials."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return _note(
            "Hyperparameter Importances",
            f"{len(complete)} complete trial(s): importances need 2 or more.",
        )
    return _plot(optuna.visualization.matplotlib.plot_param_importances, study)


# The best trial as a hypothesis environment ----------------------------------------------


def differences(new: Any, reference: Any) -> Any:
    """The parts of ``new`` that differ from ``reference``, as a soft merge over it needs them."""
    if not (isinstance(new, dict) and isinstance(reference, dict)):
        return new
    changed = {}
    for key, value in new.items():
        if key not in reference or value != reference[key]:
            changed[key] = differences(value, reference.get(key))
    return changed


def best_hypothesis_files(
    summary: dict[str, Any],
    training: TrainingParams,
    sweep: SweepParams,
    base_training: dict[str, Any],
    base_globals: dict[str, Any],
) -> dict[str, dict[str, str]]:
    """``{env: {file name: text}}`` of the best trial, as differences from conf/base.

    ``training`` is the sweep's (its environment and --params included), with its own
    epochs, not the trials' reduced ones; ``base_training`` and ``base_globals`` are the
    files of conf/base. Empty when no trial completed.
    """
    best = summary["best_trial"]
    if best is None:
        return {}
    target = sweep.best_hypothesis
    overrides = {"epochs": target.epochs} if target.epochs else {}
    full = trial_training(training, overrides, best["params"]).model_dump(mode="json")
    reference = TrainingParams.model_validate(base_training["training"]).model_dump(mode="json")
    for key in NOT_HYPOTHESIS:
        full.pop(key)
        reference.pop(key)
    header = (
        f"# Study {summary['study_name']}, trial {best['number']}: val mDice "
        f"{best['value']:.4f} with the trials' budget {summary['trial_overrides'] or {}}.\n"
        f"# Run it with `kedro run --env {target.env}`.\n"
    )
    globals_ = {"hypothesis": target.env} | {
        key: value for key, value in target.globals.items() if base_globals.get(key) != value
    }
    changed = differences(full, reference)
    return {
        target.env: {
            "globals.yml": header
            + yaml.safe_dump(globals_, sort_keys=False, default_flow_style=None),
            "parameters_training.yml": header
            + yaml.safe_dump(
                {"training": changed} if changed else {}, sort_keys=False, default_flow_style=None
            ),
        }
    }
