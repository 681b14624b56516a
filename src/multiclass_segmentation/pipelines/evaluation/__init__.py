"""The evaluation pipeline: the trained model scored on validation and test, and why."""
