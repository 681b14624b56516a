"""The sweep pipeline: Optuna trials of the training parameters, their report, the best one."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
