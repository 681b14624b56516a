"""Checks of the dataset for the data_validation pipeline, Kedro-free."""
