"""A sweep's summary: every trial of the study as it is now, the best one and the base one."""

from __future__ import annotations

import math
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from multiclass_segmentation.config.sweep import SweepParams
from multiclass_segmentation.core.sweep.storage import WORKER, shown_url, storage_url
from multiclass_segmentation.core.sweep.trials import OBJECTIVE


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
