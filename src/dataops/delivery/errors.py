"""The delivery package's errors: one actionable line each (see dataops.errors)."""

from dataops.errors import DataOpsError


class DeliveryError(DataOpsError):
    """A bundle cannot be built, stored, fetched or made current."""


class PointerConflict(DeliveryError):
    """The pointer changed since it was read: another publisher or rollback won the race."""


class DamagedBundle(DeliveryError):
    """A stored bundle is truncated, unreadable or not what its version says."""
