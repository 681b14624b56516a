"""Parameters of the study pipeline: hypotheses x seeds, ensembles and the statistics."""

from __future__ import annotations

import re

from pydantic import Field, PositiveInt, model_validator

from multiclass_segmentation.params.common import StrictModel

# A hypothesis or ensemble name becomes a Kedro namespace and a folder name.
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"


class EnsembleParams(StrictModel):
    """An ensemble of the study's trained runs: their softmax averaged, optionally weighted."""

    name: str
    members: list[str] = Field(
        min_length=1,
        description="a study hypothesis (all its seeds) or one run, <hypothesis>.seed_<seed>",
    )
    weights: list[float] | None = Field(
        default=None, description="one weight per member run (after expansion); null = equal"
    )


class ComparisonParams(StrictModel):
    """The paired bootstrap over test images with which hypotheses are compared."""

    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    bootstrap_samples: PositiveInt = 10000
    seed: int = 0


class StudyParams(StrictModel):
    """Every hypothesis trained and evaluated over every seed, then compared."""

    hypotheses: list[str] = Field(
        min_length=1, description="environments under conf/ (base: conf/base itself)"
    )
    seeds: list[int] = Field(min_length=1)
    # A list, not a mapping: an environment's list replaces base's whole.
    ensembles: list[EnsembleParams] = Field(default_factory=list)
    comparison: ComparisonParams = ComparisonParams()

    @model_validator(mode="after")
    def _consistent(self) -> StudyParams:
        names = [*self.hypotheses, *(e.name for e in self.ensembles)]
        for name in names:
            if re.fullmatch(NAME_PATTERN, name) is None:
                raise ValueError(f"'{name}' is not a name of letters, digits and _")
        if len(set(names)) != len(names) or len(set(self.seeds)) != len(self.seeds):
            raise ValueError("a hypothesis, ensemble or seed is listed twice")
        for ensemble in self.ensembles:
            runs = self.member_runs(ensemble.name)
            if len(runs) < 2:
                raise ValueError(f"ensemble {ensemble.name} has fewer than 2 runs: {runs}")
            if ensemble.weights is not None and len(ensemble.weights) != len(runs):
                raise ValueError(
                    f"ensemble {ensemble.name}: {len(ensemble.weights)} weights for "
                    f"{len(runs)} runs {runs}"
                )
        return self

    def runs(self) -> list[tuple[str, int]]:
        """Every (hypothesis, seed) pair, hypotheses in their listed order."""
        return [(hypothesis, seed) for hypothesis in self.hypotheses for seed in self.seeds]

    def ensemble(self, name: str) -> EnsembleParams:
        return next(e for e in self.ensembles if e.name == name)

    def ensemble_weights(self, name: str) -> list[float]:
        """One weight per member run; equal when none are given."""
        return self.ensemble(name).weights or [1.0] * len(self.member_runs(name))

    def member_runs(self, ensemble: str) -> list[str]:
        """The run names (<hypothesis>.seed_<seed>) an ensemble averages."""
        runs = []
        for member in self.ensemble(ensemble).members:
            if member in self.hypotheses:
                runs += [run_name(member, seed) for seed in self.seeds]
            elif member in {run_name(h, s) for h, s in self.runs()}:
                runs.append(member)
            else:
                raise ValueError(
                    f"ensemble {ensemble}: member '{member}' is neither a study hypothesis "
                    f"{self.hypotheses} nor one of its runs (<hypothesis>.seed_<seed>)"
                )
        return runs


def run_name(hypothesis: str, seed: int) -> str:
    """The Kedro namespace of one hypothesis trained with one seed."""
    return f"{hypothesis}.seed_{seed}"
