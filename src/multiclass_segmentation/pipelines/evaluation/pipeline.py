"""The evaluation pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    assemble_metrics,
    plot_confusion_and_size_recall,
    plot_error_examples,
    predict_split,
    score_split,
    update_study_results,
)

SCORED_SPLITS = ("val", "test")


def create_pipeline(**kwargs) -> Pipeline:
    per_split = [
        node
        for split in SCORED_SPLITS
        for node in (
            Node(
                func=predict_split,
                inputs=["trained_model", f"validated_{split}", "params:evaluation"],
                outputs=f"{split}_predictions",
                name=f"predict_{split}_node",
            ),
            Node(
                func=score_split,
                inputs=[
                    f"{split}_predictions",
                    f"validated_{split}",
                    "params:classes",
                    "params:evaluation",
                ],
                outputs=f"{split}_scores",
                name=f"score_{split}_node",
            ),
        )
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
                    "validated_test",
                    "test_predictions",
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
