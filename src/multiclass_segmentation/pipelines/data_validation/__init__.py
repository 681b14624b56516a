"""Checks the raw dataset and hands its usable image/mask pairs to the other pipelines."""

from multiclass_segmentation.pipelines.data_validation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
