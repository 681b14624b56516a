"""Pydantic schemas of the project's parameters.

Kedro validates a ``params:`` node input against the Pydantic model that types
it, so a wrong or misspelt key stops the run before any work. Every model
forbids unknown keys for that reason.
"""
