"""The evaluation pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    assemble_metrics,
    evaluate_split,
    plot_confusion_and_size_recall,
    plot_error_examples,
    update_study_results,
)

# Of data validation's SPLITS, those scored: val, on which the best model is chosen,
# and test, which only reports.
SCORED_SPLITS = ("val", "test")


def create_pipeline(**kwargs) -> Pipeline:
    per_split = [
        Node(
            func=evaluate_split,
            inputs=[
                "trained_model",
                f"validated_{split}",
                "params:dataset",
                "params:classes",
                "params:evaluation",
            ],
            outputs=f"{split}_scores",
            name=f"evaluate_{split}_node",
        )
        for split in SCORED_SPLITS
    ]
    return Pipeline(
        [
            *per_split,
            Node(
                func=assemble_metrics,
                inputs=[
                    "val_scores",
                    "test_scores",
                    "trained_model",
                    "params:evaluation",
                    "params:hypothesis",
                ],
                outputs="metrics",
                name="assemble_metrics_node",
                tags="reports",
            ),
            Node(
                func=update_study_results,
                inputs=["previous_study_results", "metrics", "params:evaluation"],
                outputs="study_results",
                name="update_study_results_node",
                tags="reports",
            ),
            Node(
                func=plot_error_examples,
                inputs=[
                    "trained_model",
                    "validated_test",
                    "params:dataset",
                    "test_scores",
                    "params:classes",
                    "params:evaluation",
                ],
                outputs="error_examples_hypothesis_figure",
                name="plot_error_examples_node",
                tags="figures",
            ),
            Node(
                func=plot_confusion_and_size_recall,
                inputs=["test_scores", "params:classes"],
                outputs="confusion_and_size_recall_hypothesis_figure",
                name="plot_confusion_and_size_recall_node",
                tags="figures",
            ),
        ],
        tags=["evaluation"],
    )
