"""The study pipeline: every hypothesis x seed as a namespace, ensembles, the summary.

Namespaces: ``<hypothesis>.seed_<seed>`` (training and evaluation of one run) and
``<ensemble>``; ``kedro run --pipelines study --namespaces base`` runs base's seeds.
The pipeline also holds data validation, the EDA and the reporting, so one
command goes from the raw data to report.md; ``--only-missing-outputs`` skips
whatever exists already (a finished run, the EDA).
"""

from kedro.pipeline import Node, Pipeline

from multiclass_segmentation.config.study import run_name
from multiclass_segmentation.integrations.tracking import NAMESPACE_TASK_TAG
from multiclass_segmentation.io.study_config import STUDY_RUNS, study_plan
from multiclass_segmentation.pipelines import (
    data_validation,
    eda,
    evaluation,
    reporting,
    robustness,
    training,
)
from multiclass_segmentation.report.study_seeds import STUDY_SEEDS_FIGURE

from .nodes import assemble_ensemble, summarise_study

# Inputs every run shares, outside the namespaces: data validation's and the EDA's outputs.
SHARED_INPUTS = {
    "validated_train",
    "validated_val",
    "validated_test",
    "suggested_class_weights",
}
SHARED_PARAMETERS = {
    "params:dataset",
    "params:classes",
    "params:robustness",
    "params:data_validation",
}


def _scoring() -> Pipeline:
    """Evaluation's split scores and metrics, then the shift benchmark's robustness.json;
    without the figures and results.json.

    Each run finds the cached views and checks the external sets itself, so that a run
    chosen with --namespaces has them too; after the first run that is a cache hit.
    """
    return (
        evaluation.create_pipeline().only_nodes(
            "evaluate_val_node", "evaluate_test_node", "assemble_metrics_node"
        )
        + robustness.shared_inputs_pipeline()
        + robustness.scoring_pipeline()
    )


def _run_pipeline(hypothesis: str, seed: int) -> Pipeline:
    """One hypothesis trained with one seed, then scored on val and test."""
    name = run_name(hypothesis, seed)
    parameters = f"params:{STUDY_RUNS}.{name}"
    return Pipeline(
        # One ClearML task per run, named after it, with its parameters and live curves.
        Pipeline(training.create_pipeline().only_nodes("train_model_node"), tags=NAMESPACE_TASK_TAG)
        + _scoring(),
        namespace=name,
        inputs=SHARED_INPUTS,
        parameters={
            **{p: p for p in SHARED_PARAMETERS},
            "params:training": f"{parameters}.training",
            "params:evaluation": f"{parameters}.evaluation",
            "params:hypothesis": f"{parameters}.hypothesis",
        },
    )


def _ensemble_pipeline(name: str, members: list[str]) -> Pipeline:
    """An ensemble of trained runs, scored as a single model is."""
    assemble = Node(
        func=assemble_ensemble,
        inputs=[
            f"params:{STUDY_RUNS}.{name}.hypothesis",
            f"params:{STUDY_RUNS}.{name}.members",
            f"params:{STUDY_RUNS}.{name}.weights",
            *(f"{member}.trained_model" for member in members),
        ],
        outputs=f"{name}.trained_model",
        name="assemble_ensemble_node",
        namespace=name,
    )
    scoring = Pipeline(
        _scoring(),
        namespace=name,
        inputs={
            "validated_val": "validated_val",
            "validated_test": "validated_test",
            "trained_model": f"{name}.trained_model",
        },
        parameters={
            **{p: p for p in SHARED_PARAMETERS},
            "params:evaluation": f"params:{STUDY_RUNS}.{name}.evaluation",
            "params:hypothesis": f"params:{STUDY_RUNS}.{name}.hypothesis",
        },
    )
    return Pipeline([assemble]) + scoring


def create_pipeline(**kwargs) -> Pipeline:
    study = study_plan()
    if study is None:
        return Pipeline([])
    names = [run_name(h, s) for h, s in study.runs()] + [e.name for e in study.ensembles]
    summary = Node(
        func=summarise_study,
        inputs=[
            "previous_study_results",
            "params:study",
            "params:classes",
            *(f"{name}.metrics" for name in names),
            *(f"{name}.robustness" for name in names),
        ],
        outputs=["study_results", f"{STUDY_SEEDS_FIGURE}_figure"],
        name="summarise_study_node",
        tags="reports",
    )
    runs = Pipeline(
        [
            *(_run_pipeline(h, s) for h, s in study.runs()),
            *(_ensemble_pipeline(e.name, study.member_runs(e.name)) for e in study.ensembles),
            summary,
        ],
        tags=["study"],
    )
    # The report reads results.json as summarise_study leaves it.
    report = Pipeline(
        reporting.create_pipeline(),
        inputs={"study_results_with_robustness": "study_results"},
    )
    return data_validation.create_pipeline() + eda.create_pipeline() + runs + report
