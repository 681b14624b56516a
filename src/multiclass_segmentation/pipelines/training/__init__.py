"""The training pipeline: validated data in, a trained model and its history out."""
