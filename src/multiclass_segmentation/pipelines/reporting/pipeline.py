"""The reporting pipeline: data/08_reporting/report.md from whatever has been run so far."""

from kedro.pipeline import Node, Pipeline

from multiclass_segmentation.report.study import LEARNING_CURVES_FIGURE, SCORES_FIGURE
from multiclass_segmentation.report.study_figures import scores_comparison_figure
from multiclass_segmentation.report.training_figures import learning_curves_comparison_figure

from .nodes import render_study_report, select_latest_runs


def create_pipeline(**kwargs) -> Pipeline:
    # The nodes read results.json as the robustness pipeline leaves it, and the reports of
    # data validation and EDA, so in a session that also runs the other pipelines the
    # report is built after them.
    return Pipeline(
        [
            Node(
                func=select_latest_runs,
                inputs=["reporting_json_files", "study_results_with_robustness"],
                outputs=["latest_metrics", "latest_training_histories", "latest_sweep_summaries"],
                name="select_latest_runs_node",
            ),
            Node(
                func=learning_curves_comparison_figure,
                inputs=["latest_training_histories", "params:evaluation"],
                outputs=f"{LEARNING_CURVES_FIGURE}_figure",
                name="plot_learning_curves_comparison_node",
                tags="figures",
            ),
            Node(
                func=scores_comparison_figure,
                inputs=["study_results_with_robustness", "params:classes", "params:evaluation"],
                outputs=f"{SCORES_FIGURE}_figure",
                name="plot_scores_comparison_node",
                tags="figures",
            ),
            Node(
                func=render_study_report,
                inputs={
                    "validation_report": "data_validation_report",
                    "eda_report": "eda_report",
                    "study_results": "study_results_with_robustness",
                    "metrics": "latest_metrics",
                    "histories": "latest_training_histories",
                    "sweeps": "latest_sweep_summaries",
                    "figure_files": "reporting_figure_files",
                    "classes": "params:classes",
                    "evaluation": "params:evaluation",
                    "reporting": "params:reporting",
                },
                outputs="study_report_md",
                name="render_study_report_node",
                tags="reports",
            ),
        ],
        tags=["reporting"],
    )
