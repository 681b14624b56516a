"""The inference pipeline: label new images with the trained model, on demand."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
