"""The reporting pipeline: the study report from the saved reports, results and runs."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
