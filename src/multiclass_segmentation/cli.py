"""Project commands: Kedro's ``run``, with user errors reported as their message alone.

Kedro takes ``run`` from here for both ``kedro run`` and
``python -m multiclass_segmentation``. Its options and behaviour are Kedro's own;
only a :class:`~multiclass_segmentation.errors.UserError` (or a parameter that
fails validation) ends with its message instead of a traceback.
"""

from __future__ import annotations

import functools
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.validation.exceptions import ParameterValidationError

from multiclass_segmentation.errors import UserError

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


@click.group(name="multiclass_segmentation")
def cli() -> None:
    """Commands of the multiclass_segmentation project."""


def _user_errors_as_messages(command: Any) -> Any:
    @functools.wraps(command)
    def wrapped(**kwargs: Any) -> Any:
        try:
            return command(**kwargs)
        except Exception as error:
            user_error = find_user_error(error)
            if user_error is None:
                raise  # a bug: its traceback is the useful part
            # click prints "Error: <message>" and exits with status 1.
            raise click.ClickException(str(user_error)) from None

    return wrapped


run = click.Command(
    name="run",
    callback=_user_errors_as_messages(kedro_run.callback),
    params=list(kedro_run.params),
    help=kedro_run.help,
    short_help=kedro_run.short_help,
    context_settings=kedro_run.context_settings,
)
cli.add_command(run)
