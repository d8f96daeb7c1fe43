"""The errors of ``dataops ci``: one actionable line each."""

from dataops.errors import DataOpsError


class CiError(DataOpsError):
    """The check could not run (no usable production manifest, a profile that would write to production...)."""
