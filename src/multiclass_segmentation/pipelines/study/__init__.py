"""The study pipeline: every hypothesis over every seed, ensembles, and their statistics."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
