"""The training pipeline: validated data in, a trained model and its history out."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
