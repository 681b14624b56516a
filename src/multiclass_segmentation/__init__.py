"""multiclass_segmentation: Kedro pipelines for semantic segmentation."""

__version__ = "0.1.0"
