"""The robustness pipeline: the trained model scored on shifted views and external sets."""

from .pipeline import create_pipeline, scoring_pipeline, shared_inputs_pipeline

__all__ = ["create_pipeline", "scoring_pipeline", "shared_inputs_pipeline"]
