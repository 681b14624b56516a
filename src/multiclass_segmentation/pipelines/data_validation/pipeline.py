"""The data_validation pipeline: inspect each split, report, stop on errors, hand over."""

from kedro.pipeline import Node, Pipeline

from multiclass_segmentation.pipelines.data_validation.nodes import (
    build_report,
    check_report,
    inspect_split,
    render_report_markdown,
    validated_split_builder,
)

# The dataset's splits: img/<split>/ and labels/<split>/ under dataset.root, and
# validated_<split> (a manifest of the usable pairs) for the other pipelines. Fixed
# here, not a parameter: Kedro builds pipelines when it imports them, before any
# parameter is read, and each split has its role (training fits on train, picks
# the best epoch and model on val, scores on test), so the names are the layout's.
SPLITS = ("train", "val", "test")


def create_pipeline(**kwargs) -> Pipeline:
    inspect_nodes = [
        Node(
            inspect_split,
            inputs=[f"raw_images_{split}", f"raw_masks_{split}", "params:classes"],
            outputs=f"data_validation_inspection_{split}",
            name=f"inspect_{split}_files_node",
        )
        for split in SPLITS
    ]
    report_nodes = [
        Node(
            build_report,
            inputs={
                "dataset": "params:dataset",
                "classes": "params:classes",
                "params": "params:data_validation",
                **{split: f"data_validation_inspection_{split}" for split in SPLITS},
            },
            outputs="data_validation_report",
            name="build_validation_report_node",
            tags="reports",
        ),
        Node(
            render_report_markdown,
            inputs=["data_validation_report", "params:data_validation"],
            outputs="data_validation_report_md",
            name="render_validation_report_node",
            tags="reports",
        ),
        # Takes both reports, so it raises only after they are saved.
        Node(
            check_report,
            inputs=[
                "data_validation_report",
                "data_validation_report_md",
                "params:data_validation",
            ],
            outputs="data_validation_passed",
            name="check_validation_report_node",
        ),
    ]
    validated_nodes = [
        Node(
            validated_split_builder(split),
            inputs=[
                f"data_validation_inspection_{split}",
                "data_validation_passed",
                "params:classes",
            ],
            outputs=f"validated_{split}",
            name=f"build_validated_{split}_node",
        )
        for split in SPLITS
    ]
    return Pipeline([*inspect_nodes, *report_nodes, *validated_nodes], tags=["data_validation"])
