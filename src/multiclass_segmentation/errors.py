"""Errors that the user fixes in the input: the command line prints their message alone.

A ``UserError`` says what is wrong with the data, a folder or a parameter and
how to fix it; a traceback would only bury that advice. Any other exception is
a bug and keeps its traceback. ``cli.py`` is the one place that tells them apart.
"""

from __future__ import annotations

from kedro.validation.exceptions import ParameterValidationError


class UserError(Exception):
    """The input must be fixed: the dataset, a folder, a parameter or the environment."""


class MissingInputError(UserError, FileNotFoundError):
    """A folder or file the run needs is not there."""


class BadInputError(UserError, ValueError):
    """A parameter, or the data, does not fit what the run needs."""


# Kedro's own: a parameter fails its Pydantic model (e.g. training.batch_size=0).
USER_ERRORS: tuple[type[Exception], ...] = (UserError, ParameterValidationError)


def find_user_error(error: BaseException) -> BaseException | None:
    """``error`` or the exception it was raised from, whichever is a user error.

    Kedro wraps some errors (a dataset's in ``DatasetError``), so the chain of
    causes is searched; an error that only happened while handling another does
    not count.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, USER_ERRORS):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None
