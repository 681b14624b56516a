"""The best trial as a hypothesis environment: its differences from conf/base, as YAML."""

from __future__ import annotations

from typing import Any

import yaml

from multiclass_segmentation.config.sweep import SweepParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.sweep.search_space import trial_training

# Training parameters that say where or how a run runs: never part of a hypothesis.
NOT_HYPOTHESIS = ("checkpoint_dir", "resume")


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
