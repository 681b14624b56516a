"""The evaluation pipeline: the trained model scored on validation and test, and why."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
