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


def create_pipeline(**kwargs) -> Pipeline:
    statistics = {split: f"eda_statistics_{split}" for split in SPLITS}
    validated = {split: f"validated_{split}" for split in SPLITS}
    classes = {"classes": "params:classes"}
    eda = {"eda": "params:eda"}
    return Pipeline(
        [
            *(
                Node(
                    func=compute_split_statistics,
                    inputs=[
                        f"validated_{split}",
                        "params:dataset",
                        "params:classes",
                        "params:eda",
                    ],
                    outputs=f"eda_statistics_{split}",
                    name=f"compute_{split}_statistics_node",
                )
                for split in SPLITS
            ),
            Node(
                func=suggest_class_weights,
                inputs=["eda_statistics_train", "params:classes", "params:eda"],
                outputs="suggested_class_weights",
                name="suggest_class_weights_node",
            ),
            Node(
                func=build_eda_report,
                inputs={
                    **classes,
                    **eda,
                    "class_weights": "suggested_class_weights",
                    **statistics,
                },
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
            Node(
                func=plot_image_sizes,
                inputs=statistics,
                outputs="eda_image_sizes_figure",
                name="plot_image_sizes_node",
                tags="figures",
            ),
            Node(
                func=plot_class_pixels,
                inputs={**classes, **statistics},
                outputs="eda_class_pixels_figure",
                name="plot_class_pixels_node",
                tags="figures",
            ),
            Node(
                func=plot_objects_per_image,
                inputs={**classes, **eda, **statistics},
                outputs="eda_objects_per_image_figure",
                name="plot_objects_per_image_node",
                tags="figures",
            ),
            Node(
                func=plot_object_sizes,
                inputs={**classes, **eda, **statistics},
                outputs="eda_object_sizes_figure",
                name="plot_object_sizes_node",
                tags="figures",
            ),
            Node(
                func=plot_cooccurrence,
                inputs={**classes, **statistics},
                outputs="eda_cooccurrence_figure",
                name="plot_cooccurrence_node",
                tags="figures",
            ),
            Node(
                func=plot_sample_grid,
                inputs={**classes, **eda, "dataset": "params:dataset", **validated},
                outputs="eda_samples_figure",
                name="plot_sample_grid_node",
                tags="figures",
            ),
        ],
        tags=["eda"],
    )
