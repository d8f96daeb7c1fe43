"""Errors the user can act on. Their messages name the file, model or setting
at fault and what to do; the CLI prints them as one line, without a traceback."""


class DataOpsError(Exception):
    """Base class for errors with an actionable message."""


class ConfigError(DataOpsError):
    """A setting is missing or invalid."""


class DataFileError(DataOpsError):
    """A sample-data file is missing, truncated or malformed."""

    def __init__(self, path, line: int | None, problem: str):
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


class WarehouseError(DataOpsError):
    """The warehouse cannot be reached or refused an operation."""


class DbtError(DataOpsError):
    """dbt failed; the message names the failing models or tests."""
