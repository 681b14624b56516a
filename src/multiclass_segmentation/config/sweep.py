"""Parameters of the sweep pipeline: search space, budget, pruner, storage, best hypothesis.

Only the form is checked here; whether a path and its values make valid
``training`` parameters is checked against them before the first trial
(``sweep.check_search_space``). Never imports torch.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from multiclass_segmentation.config.common import StrictModel

# A study name becomes a file and folder name (SQLite file, trial checkpoints).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# Dotted keys into the training parameters; a number indexes a list: loss.terms.1.weight.
PATH_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+))*$"
# What Optuna stores as a categorical choice.
Choice = str | int | float | bool | None
NonNegative = Annotated[int, Field(ge=0)]


class FloatDimension(StrictModel):
    """``trial.suggest_float``: a value in [low, high], uniform or on a log scale."""

    path: str = Field(pattern=PATH_PATTERN)
    type: Literal["float"]
    low: float
    high: float
    log: bool = False
    step: PositiveFloat | None = None

    @model_validator(mode="after")
    def _range(self) -> FloatDimension:
        _check_range(self.path, self.low, self.high, self.log)
        if self.log and self.step is not None:
            raise ValueError(f"sweep.search_space '{self.path}': log and step exclude each other")
        return self


class IntDimension(StrictModel):
    """``trial.suggest_int``: an integer in [low, high]."""

    path: str = Field(pattern=PATH_PATTERN)
    type: Literal["int"]
    low: int
    high: int
    log: bool = False
    step: PositiveInt = 1

    @model_validator(mode="after")
    def _range(self) -> IntDimension:
        _check_range(self.path, self.low, self.high, self.log)
        return self


class CategoricalDimension(StrictModel):
    """``trial.suggest_categorical``: one of the choices."""

    path: str = Field(pattern=PATH_PATTERN)
    type: Literal["categorical"]
    choices: list[Choice] = Field(min_length=1)


def _check_range(path: str, low: float, high: float, log: bool) -> None:
    if low > high:
        raise ValueError(f"sweep.search_space '{path}': low {low} is above high {high}")
    if log and low <= 0:
        raise ValueError(f"sweep.search_space '{path}': a log scale needs low > 0, got {low}")


Dimension = Annotated[
    FloatDimension | IntDimension | CategoricalDimension, Field(discriminator="type")
]


class PrunerParams(StrictModel):
    """Which trials stop early, judged on the validation mDice of each epoch.

    ``median``: below the median of earlier trials at the same epoch, once
    ``n_startup_trials`` trials have finished and after ``n_warmup_steps`` epochs.
    ``threshold``: outside [lower, upper]. ``none``: every trial runs to the end.
    """

    name: Literal["median", "threshold", "none"] = "median"
    n_startup_trials: NonNegative = 5
    # Epochs (counted from 0) before a trial may be pruned.
    n_warmup_steps: NonNegative = 0
    lower: float | None = None
    upper: float | None = None

    @model_validator(mode="after")
    def _threshold_has_a_bound(self) -> PrunerParams:
        if self.name == "threshold" and self.lower is None and self.upper is None:
            raise ValueError("sweep.pruner 'threshold' needs lower, upper or both")
        return self


class BestHypothesisParams(StrictModel):
    """The environment ``conf/<env>/`` written for the best trial."""

    env: str = Field("sweep_best", pattern=NAME_PATTERN)
    # null: the epochs of the sweep's training parameters, not the trials' reduced ones.
    epochs: PositiveInt | None = None
    # The globals the sweep ran with; those that differ from conf/base go into the env.
    globals: dict[str, str] = {}


class SweepParams(StrictModel):
    study_name: str = Field(pattern=NAME_PATTERN)
    # null: an SQLite file <embedded_storage_dir>/<study_name>.db; or a database URL such
    # as postgresql://user@host:5432/db, which every worker of the study uses.
    storage: str | None = None
    embedded_storage_dir: str
    # This worker's budget: trials and/or minutes, whichever ends first.
    n_trials: PositiveInt | None = None
    timeout_minutes: PositiveFloat | None = None
    seed: int = 0
    search_space: list[Dimension] = Field(min_length=1)
    # Deep-merged into the training parameters of every trial (e.g. fewer epochs).
    trial_overrides: dict[str, Any] = {}
    pruner: PrunerParams = Field(default_factory=PrunerParams)
    # Trial 0 of a new study trains the base values of the searched parameters.
    include_base: bool = True
    # A worker that died leaves its trial RUNNING; after this long without a heartbeat
    # another worker marks it FAIL (Optuna's RDB heartbeat).
    heartbeat_seconds: PositiveInt = 60
    best_hypothesis: BestHypothesisParams = Field(default_factory=BestHypothesisParams)

    @model_validator(mode="after")
    def _budget_and_unique_paths(self) -> SweepParams:
        if self.n_trials is None and self.timeout_minutes is None:
            raise ValueError(
                "sweep needs a budget: set sweep.n_trials, sweep.timeout_minutes or both"
            )
        paths = [d.path for d in self.search_space]
        repeated = sorted({p for p in paths if paths.count(p) > 1})
        if repeated:
            raise ValueError(f"sweep.search_space lists {repeated} more than once")
        return self


def path_keys(path: str) -> list[str | int]:
    """``'loss.terms.1.weight'`` as keys and list indices: ``['loss', 'terms', 1, 'weight']``."""
    return [int(part) if re.fullmatch(r"[0-9]+", part) else part for part in path.split(".")]
