"""Errors the ``threadloom`` command line reports to its user."""

from __future__ import annotations

from threadloom._errors.base import ThreadloomError


class CliError(ThreadloomError):
    """A ``threadloom`` command cannot do what was asked; ``exit_code`` tells scripts why."""

    exit_code = 1


class NotFoundError(CliError):
    """The thread, checkpoint or store item named on the command line does not exist."""

    exit_code = 3

    def __init__(self, what: str, name: str, where: str, hint: str) -> None:
        self.what, self.name, self.where = what, name, where
        super().__init__(f"no {what} {name!r} in {where}. {hint}")


class DatabaseError(CliError):
    """The database cannot be opened, or it is not one that threadloom wrote."""

    exit_code = 4

    def __init__(self, where: str, problem: str, fix: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}. {fix}")


class ModelUnavailableError(CliError):
    """The chat model asked for with ``--model`` needs a package or an API key that is missing."""

    exit_code = 5

    def __init__(self, model: str, missing: str, fix: str) -> None:
        self.model, self.missing = model, missing
        super().__init__(f"--model {model!r} needs {missing}. {fix}")


class AlreadyExistsError(CliError):
    """The thread a command would create (copy, import) already exists."""

    exit_code = 6

    def __init__(self, what: str, name: str, where: str, hint: str) -> None:
        self.what, self.name, self.where = what, name, where
        super().__init__(f"{what} {name!r} already exists in {where}. {hint}")
