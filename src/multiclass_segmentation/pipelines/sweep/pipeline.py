"""The sweep pipeline (`kedro run --pipelines sweep`; not part of the default run)."""

from kedro.pipeline import Node, Pipeline

from multiclass_segmentation.core.sweep.best_hypothesis import best_hypothesis_files
from multiclass_segmentation.integrations.tracking import OWN_TASKS_TAG

from .nodes import (
    plot_sweep_history,
    plot_sweep_importances,
    run_sweep,
    write_sweep_report,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=run_sweep,
                inputs=[
                    "validated_train",
                    "validated_val",
                    "params:dataset",
                    "suggested_class_weights",
                    "params:training",
                    "params:classes",
                    "params:hypothesis",
                    "params:sweep",
                    "params:tracking",
                    "conf_environments",
                ],
                outputs="sweep_summary",
                name="run_sweep_node",
                # Each trial is a ClearML task of its own, so the run starts none.
                tags=OWN_TASKS_TAG,
            ),
            Node(
                func=plot_sweep_history,
                inputs=["sweep_summary", "params:sweep"],
                outputs="sweep_history_hypothesis_figure",
                name="plot_sweep_history_node",
                tags="figures",
            ),
            Node(
                func=plot_sweep_importances,
                inputs=["sweep_summary", "params:sweep"],
                outputs="sweep_importances_hypothesis_figure",
                name="plot_sweep_importances_node",
                tags="figures",
            ),
            Node(
                func=write_sweep_report,
                inputs=["sweep_summary", "params:hypothesis"],
                outputs="sweep_report_md",
                name="write_sweep_report_node",
                tags="reports",
            ),
            Node(
                func=best_hypothesis_files,
                inputs=[
                    "sweep_summary",
                    "params:training",
                    "params:sweep",
                    "conf_base_training",
                    "conf_base_globals",
                ],
                outputs="sweep_best_hypothesis",
                name="best_trial_hypothesis_node",
            ),
        ],
        tags=["sweep"],
    )
