"""The training pipeline."""

from kedro.pipeline import Node, Pipeline

from multiclass_segmentation.report.training_figures import learning_curves_figure

from .nodes import train_model


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=train_model,
                inputs=[
                    "validated_train",
                    "validated_val",
                    "params:dataset",
                    "suggested_class_weights",
                    "params:training",
                    "params:classes",
                    "params:hypothesis",
                ],
                outputs=["trained_model", "training_history"],
                name="train_model_node",
            ),
            Node(
                func=learning_curves_figure,
                inputs=["training_history", "params:classes"],
                outputs="learning_curves_hypothesis_figure",
                name="plot_learning_curves_node",
                tags="figures",
            ),
        ],
        tags=["training"],
    )
