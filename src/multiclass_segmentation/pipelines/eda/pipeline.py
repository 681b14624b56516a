"""The eda pipeline."""

from kedro.pipeline import Node, Pipeline

# The splits that data validation hands over as validated_<split>.
from multiclass_segmentation.pipelines.data_validation.pipeline import SPLITS

from .nodes import (
    build_eda_report,
    compute_split_statistics,
    plot_class_pixels,
    plot_cooccurrence,
    plot_image_sizes,
    plot_object_sizes,
    plot_objects_per_image,
    plot_sample_grid,
    render_eda_markdown,
    suggest_class_weights,
)

STATISTICS = {split: f"eda_statistics_{split}" for split in SPLITS}
CLASSES = {"classes": "params:classes"}
EDA = {"eda": "params:eda"}


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([*_statistics_nodes(), *_report_nodes(), *_figure_nodes()], tags=["eda"])


def _statistics_nodes() -> list[Node]:
    per_split = [
        Node(
            func=compute_split_statistics,
            inputs=[f"validated_{split}", "params:dataset", "params:classes", "params:eda"],
            outputs=f"eda_statistics_{split}",
            name=f"compute_{split}_statistics_node",
        )
        for split in SPLITS
    ]
    class_weights = Node(
        func=suggest_class_weights,
        inputs=["eda_statistics_train", "params:classes", "params:eda"],
        outputs="suggested_class_weights",
        name="suggest_class_weights_node",
    )
    return [*per_split, class_weights]


def _report_nodes() -> list[Node]:
    return [
        Node(
            func=build_eda_report,
            inputs={**CLASSES, **EDA, "class_weights": "suggested_class_weights", **STATISTICS},
            outputs="eda_report",
            name="build_eda_report_node",
            tags="reports",
        ),
        Node(
            func=render_eda_markdown,
            inputs="eda_report",
            outputs="eda_report_md",
            name="render_eda_markdown_node",
            tags="reports",
        ),
    ]


def _figure_nodes() -> list[Node]:
    validated = {split: f"validated_{split}" for split in SPLITS}
    # figure node function -> (its inputs, the catalog entry it draws)
    figures = {
        plot_image_sizes: (STATISTICS, "eda_image_sizes_figure"),
        plot_class_pixels: ({**CLASSES, **STATISTICS}, "eda_class_pixels_figure"),
        plot_objects_per_image: ({**CLASSES, **EDA, **STATISTICS}, "eda_objects_per_image_figure"),
        plot_object_sizes: ({**CLASSES, **EDA, **STATISTICS}, "eda_object_sizes_figure"),
        plot_cooccurrence: ({**CLASSES, **STATISTICS}, "eda_cooccurrence_figure"),
        plot_sample_grid: (
            {**CLASSES, **EDA, "dataset": "params:dataset", **validated},
            "eda_samples_figure",
        ),
    }
    return [
        Node(func=plot, inputs=inputs, outputs=output, name=f"{plot.__name__}_node", tags="figures")
        for plot, (inputs, output) in figures.items()
    ]
