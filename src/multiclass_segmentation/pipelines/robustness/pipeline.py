"""The robustness pipeline: views built once, the model scored on them, results.json."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    EXTERNAL_REPORT,
    build_shift_views,
    check_external_sets,
    inspect_external_sets,
    plot_robustness_curves,
    plot_shift_examples,
    record_robustness,
    score_robustness,
)


def shared_inputs_pipeline() -> Pipeline:
    """What every model of a study shares: the cached views and the validated external sets."""
    return Pipeline(
        [
            Node(
                func=build_shift_views,
                inputs=[
                    "validated_val",
                    "validated_test",
                    "params:dataset",
                    "params:classes",
                    "params:robustness",
                ],
                outputs="shift_views",
                name="build_shift_views_node",
            ),
            Node(
                func=inspect_external_sets,
                inputs=["params:evaluation", "params:classes", "params:data_validation"],
                outputs=[f"{EXTERNAL_REPORT}_report", "inspected_external_sets"],
                name="inspect_external_sets_node",
                tags="reports",
            ),
            Node(
                func=check_external_sets,
                inputs=[
                    f"{EXTERNAL_REPORT}_report",
                    "inspected_external_sets",
                    "params:data_validation",
                ],
                outputs="external_sets",
                name="check_external_sets_node",
            ),
        ]
    )


def scoring_pipeline() -> Pipeline:
    """One model's robustness.json; a study namespaces it per run."""
    return Pipeline(
        [
            Node(
                func=score_robustness,
                inputs=[
                    "trained_model",
                    "shift_views",
                    "external_sets",
                    "metrics",
                    "params:classes",
                    "params:evaluation",
                    "params:robustness",
                ],
                outputs="robustness",
                name="score_robustness_node",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            shared_inputs_pipeline(),
            scoring_pipeline(),
            Node(
                func=record_robustness,
                inputs=["study_results", "robustness"],
                outputs="study_results_with_robustness",
                name="record_robustness_node",
                tags="reports",
            ),
            Node(
                func=plot_robustness_curves,
                inputs=["robustness", "params:classes"],
                outputs="robustness_curves_hypothesis_figure",
                name="plot_robustness_curves_node",
                tags="figures",
            ),
            Node(
                func=plot_shift_examples,
                inputs=[
                    "trained_model",
                    "shift_views",
                    "validated_test",
                    "robustness",
                    "metrics",
                    "params:dataset",
                    "params:classes",
                    "params:evaluation",
                    "params:robustness",
                ],
                outputs="shift_examples_hypothesis_figure",
                name="plot_shift_examples_node",
                tags="figures",
            ),
        ],
        tags=["robustness"],
    )
