"""The inference pipeline: `kedro run --pipelines inference --params "inference.input_dir=..."`."""

from kedro.pipeline import Node, Pipeline

from .nodes import draw_overlays, label_images, start_inference_run


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            # Runs first (the others need its run name), so a missing folder or
            # model is reported before the catalog tries to load them.
            Node(
                func=start_inference_run,
                inputs="params:inference",
                outputs="inference_run",
                name="start_inference_run_node",
            ),
            Node(
                func=label_images,
                inputs=[
                    "inference_images",
                    "trained_model",
                    "inference_run",
                    "params:classes",
                    "params:inference",
                ],
                outputs=["inference_masks", "inference_labelled", "inference_report"],
                name="label_images_node",
            ),
            Node(
                func=draw_overlays,
                inputs=[
                    "inference_images",
                    "inference_masks",
                    "inference_labelled",
                    "inference_run",
                    "params:classes",
                    "params:inference",
                ],
                outputs="inference_overlays",
                name="draw_overlays_node",
            ),
        ],
        tags=["inference"],
    )
