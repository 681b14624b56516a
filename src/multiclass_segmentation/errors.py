"""Errors that the user fixes in the input: the command line prints their message alone.

A ``UserError`` says what is wrong with the data, a folder or a parameter and
how to fix it; a traceback would only bury that advice. Any other exception is
a bug and keeps its traceback. ``cli.py`` is the one place that tells them apart.
Never imports kedro or torch, so every layer may raise these.
"""

from __future__ import annotations


class UserError(Exception):
    """The input must be fixed: the dataset, a folder, a parameter or the environment."""


class MissingInputError(UserError, FileNotFoundError):
    """A folder or file the run needs is not there."""


class BadInputError(UserError, ValueError):
    """A parameter, or the data, does not fit what the run needs."""
