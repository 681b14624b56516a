"""The search space at dotted paths of the training parameters: each trial's parameters,
checked before the first trial, and the base's place in the space."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import optuna
from pydantic import ValidationError

from multiclass_segmentation.config.sweep import (
    CategoricalDimension,
    Dimension,
    SweepParams,
    path_keys,
)
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.training_run import check_buildable
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.merging import soft_merge

logger = logging.getLogger(__name__)


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
    tree = soft_merge(training.model_dump(mode="json"), overrides)
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
