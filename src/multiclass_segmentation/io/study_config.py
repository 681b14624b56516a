"""The study's runs as Kedro parameters, and the plan the study pipeline is built from.

A hypothesis is an environment under conf/ holding only its differences from
conf/base. The study runs every listed hypothesis with every seed inside one
``kedro run``, so each run needs the parameters that
``kedro run --env <hypothesis> --params training.seed=<seed>`` would have seen.
Kedro merges only base and one environment, so :class:`StudyConfigLoader`
adds them under ``study_runs.<hypothesis>.seed_<seed>``, which the namespaced
pipelines read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader
from kedro.framework.project import settings
from kedro.utils import find_kedro_project
from omegaconf import DictConfig, OmegaConf
from pydantic import ValidationError

from multiclass_segmentation.config.study import StudyParams
from multiclass_segmentation.errors import BadInputError, MissingInputError
from multiclass_segmentation.merging import soft_merge

STUDY_RUNS = "study_runs"
YAML_SUFFIXES = {".yml", ".yaml"}
# Kedro's default patterns of parameter files (OmegaConfigLoader's config_patterns).
PARAMETER_PATTERNS = ("parameters*", "parameters*/**", "**/parameters*")


class StudyConfigLoader(OmegaConfigLoader):
    """Kedro's OmegaConfigLoader; parameters holding a ``study`` gain ``study_runs``.

    ``study_runs.<hypothesis>.seed_<seed>`` holds ``training``, ``evaluation`` and
    ``hypothesis``: this run's parameters, then the hypothesis's differences from
    conf/base, then ``--params`` again (so ``--params training.epochs=1`` shortens
    every run), with the seed and a checkpoint folder of the run's own.
    ``study_runs.<ensemble>`` holds the run's ``evaluation``, ``hypothesis``, and the
    ensemble's member runs and their weights.
    """

    def __getitem__(self, key: str) -> Any:
        config = super().__getitem__(key)
        if key != "parameters" or "study" not in config:
            return config
        return {**config, STUDY_RUNS: self._study_runs(config)}

    def _study_runs(self, parameters: dict[str, Any]) -> dict[str, Any]:
        plan = _validated(parameters["study"])
        checkpoints = f"{self['globals'].get('models_dir', 'data/06_models')}/study/checkpoints"
        runs: dict[str, Any] = {}
        for hypothesis in plan.hypothesis_names:
            merged = soft_merge(
                parameters, self._differences(hypothesis), self.runtime_params or {}
            )
            runs[hypothesis] = {
                f"seed_{seed}": {
                    "hypothesis": hypothesis,
                    "evaluation": merged["evaluation"],
                    "training": {
                        **merged["training"],
                        "seed": seed,
                        "checkpoint_dir": f"{checkpoints}/{hypothesis}/seed_{seed}",
                    },
                }
                for seed in plan.seeds_of(hypothesis)
            }
        for ensemble in plan.ensembles:
            runs[ensemble.name] = {
                "hypothesis": ensemble.name,
                "evaluation": parameters["evaluation"],
                "members": plan.member_runs(ensemble.name),
                "weights": plan.ensemble_weights(ensemble.name),
            }
        return runs

    def _differences(self, hypothesis: str) -> dict[str, Any]:
        """The parameters in conf/<hypothesis>/ alone; conf/base's own differences are none."""
        if hypothesis == self.base_env:
            return {}
        if not (Path(self.conf_source) / hypothesis).is_dir():
            raise MissingInputError(
                f"study.hypotheses lists '{hypothesis}', but there is no environment "
                f"{Path(self.conf_source) / hypothesis}/: create it with the hypothesis's "
                "differences from conf/base (see conf/focal_dice/) or remove it from the list."
            )
        # ${globals:...} resolves with the run's globals.
        return OmegaConf.to_container(
            _environment(Path(self.conf_source) / hypothesis), resolve=True
        )


def _parameter_files(folder: Path) -> list[DictConfig]:
    """The parameter files of one environment folder, read as YAML, not yet resolved.

    Read without a Kedro loader on purpose: each loader registers its ``globals``
    resolver process-wide, so a second one would make the run's catalog resolve
    with that loader's environment.
    """
    files = sorted({path for pattern in PARAMETER_PATTERNS for path in folder.glob(pattern)})
    return [OmegaConf.load(f) for f in files if f.is_file() and f.suffix in YAML_SUFFIXES]


def _environment(folder: Path) -> DictConfig:
    """An environment's parameter files as one config, not yet resolved: Kedro refuses the
    same key in two files of one environment, so this joins them; interpolations may then
    refer across files, as in Kedro."""
    return OmegaConf.merge(OmegaConf.create(), *_parameter_files(folder))


def study_plan() -> StudyParams | None:
    """The study of the project's conf (conf/base, then ``KEDRO_ENV``'s), None without one.

    Kedro builds pipelines before it reads a run's ``--env`` and ``--params``, so
    the study pipeline's namespaces come from here; ``check_study_plan`` stops a
    run whose parameters list other hypotheses or seeds.
    """
    project = find_kedro_project(Path.cwd()) or Path.cwd()
    conf_source = project / settings.CONF_SOURCE
    envs = [settings.CONFIG_LOADER_ARGS["base_env"], os.environ.get("KEDRO_ENV")]
    environments = [
        _environment(conf_source / env) for env in envs if env and (conf_source / env).is_dir()
    ]
    studies = [OmegaConf.to_container(e.study, resolve=True) for e in environments if "study" in e]
    return _validated(soft_merge(*studies)) if studies else None


def _validated(study: dict[str, Any]) -> StudyParams:
    try:
        return StudyParams.model_validate(study)
    except ValidationError as error:
        raise BadInputError(
            f"The study parameters (study in parameters_study.yml) are invalid: {error}"
        ) from None


def check_study_plan(planned: StudyParams | None, run: StudyParams) -> None:
    """Stops a study whose run parameters differ from those its pipeline was built from."""
    if planned is not None and planned.model_dump() == run.model_dump():
        return
    env = os.environ.get("KEDRO_ENV")
    raise BadInputError(
        "The study pipeline was built from the study in conf/base"
        + (f" and conf/{env}" if env else "")
        + " (KEDRO_ENV), but this run's parameters list other hypotheses, seeds or ensembles. "
        "Kedro builds pipelines before it reads --env and --params: put the study in "
        "conf/<env>/parameters_study.yml and run `KEDRO_ENV=<env> kedro run --pipelines study` "
        "(or `make study ENV=<env>`)."
    )
