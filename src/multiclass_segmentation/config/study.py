"""Parameters of the study pipeline: hypotheses x seeds, ensembles and the statistics."""

from __future__ import annotations

import re

from pydantic import Field, PositiveInt, model_validator

from multiclass_segmentation.config.common import StrictModel

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


class HypothesisSeeds(StrictModel):
    """A hypothesis trained with seeds of its own instead of ``study.seeds``."""

    name: str
    seeds: list[int] = Field(min_length=1)


class ComparisonParams(StrictModel):
    """The paired bootstrap over test images with which hypotheses are compared."""

    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    bootstrap_samples: PositiveInt = 10000
    seed: int = 0


class StudyParams(StrictModel):
    """Every hypothesis trained and evaluated over every seed, then compared."""

    hypotheses: list[str | HypothesisSeeds] = Field(
        min_length=1,
        description="environments under conf/ (base: conf/base itself), each trained with "
        "every seed of `seeds`, or {name, seeds} with seeds of its own",
    )
    seeds: list[int] = Field(min_length=1)
    # A list, not a mapping: an environment's list replaces base's whole.
    ensembles: list[EnsembleParams] = Field(default_factory=list)
    comparison: ComparisonParams = ComparisonParams()

    @model_validator(mode="after")
    def _consistent(self) -> StudyParams:
        names = [*self.hypothesis_names, *(e.name for e in self.ensembles)]
        for name in names:
            if re.fullmatch(NAME_PATTERN, name) is None:
                raise ValueError(f"'{name}' is not a name of letters, digits and _")
        seed_lists = [self.seeds, *(self.seeds_of(h) for h in self.hypothesis_names)]
        if len(set(names)) != len(names) or any(len(set(s)) != len(s) for s in seed_lists):
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

    @property
    def hypothesis_names(self) -> list[str]:
        return [h if isinstance(h, str) else h.name for h in self.hypotheses]

    def seeds_of(self, hypothesis: str) -> list[int]:
        """The hypothesis's own seeds, or the study's."""
        own = [h.seeds for h in self.hypotheses if not isinstance(h, str) and h.name == hypothesis]
        return own[0] if own else self.seeds

    def runs(self) -> list[tuple[str, int]]:
        """Every (hypothesis, seed) pair, hypotheses in their listed order."""
        return [(h, seed) for h in self.hypothesis_names for seed in self.seeds_of(h)]

    def ensemble(self, name: str) -> EnsembleParams:
        return next(e for e in self.ensembles if e.name == name)

    def ensemble_weights(self, name: str) -> list[float]:
        """One weight per member run; equal when none are given."""
        return self.ensemble(name).weights or [1.0] * len(self.member_runs(name))

    def member_runs(self, ensemble: str) -> list[str]:
        """The run names (<hypothesis>.seed_<seed>) an ensemble averages."""
        runs = []
        for member in self.ensemble(ensemble).members:
            if member in self.hypothesis_names:
                runs += [run_name(member, seed) for seed in self.seeds_of(member)]
            elif member in {run_name(h, s) for h, s in self.runs()}:
                runs.append(member)
            else:
                raise ValueError(
                    f"ensemble {ensemble}: member '{member}' is neither a study hypothesis "
                    f"{self.hypothesis_names} nor one of its runs (<hypothesis>.seed_<seed>)"
                )
        return runs


def run_name(hypothesis: str, seed: int) -> str:
    """The Kedro namespace of one hypothesis trained with one seed."""
    return f"{hypothesis}.seed_{seed}"
