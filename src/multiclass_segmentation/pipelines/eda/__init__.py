"""The eda pipeline: statistics, figures and suggested class weights of the validated splits."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
