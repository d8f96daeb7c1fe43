"""Where bundles are stored and how many are kept: ``DATAOPS_BUNDLE_*`` settings.

``DATAOPS_BUNDLE_STORE`` is ``s3://bucket/prefix`` or a local folder (default
``<DATAOPS_STATE_DIR>/bundles``); ``DATAOPS_BUNDLE_RETENTION`` how many of the
newest versions pruning keeps (default 10); ``DATAOPS_BUNDLE_AIRFLOW_URL``
(with ``_USER`` and ``_PASSWORD``) the Airflow asked which versions its
unfinished runs read, when no local stack is up (unknown: nothing is pruned). An S3 store is reached through
``DATAOPS_S3_ENDPOINT_URL`` when it is set (an S3-compatible server), else
through boto3's own configuration (``AWS_ENDPOINT_URL``, the region, the
credentials chain).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dataops.config import Settings, build_section, load_settings
from dataops.delivery.store import BundleStore, open_store


class DeliverySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DATAOPS_BUNDLE_", env_file=".env", extra="ignore")

    # s3://bucket/prefix or a folder; empty: <state_dir>/bundles.
    store: str = ""
    # How many of the newest versions pruning keeps (besides the current and in-use ones).
    retention: int = Field(10, ge=1, le=10_000)
    # The Airflow whose unfinished runs' versions pruning keeps, when no local stack is up
    # (its API server's URL, and a user allowed to read DAG runs).
    airflow_url: str = ""
    airflow_user: str = "admin"
    airflow_password: str = ""


def load_delivery_settings() -> DeliverySettings:
    """The delivery settings; a bad value is one line naming the variable and what it accepts."""
    return build_section(DeliverySettings)


def open_bundle_store(settings: Settings | None = None, delivery: DeliverySettings | None = None) -> BundleStore:
    """The store the settings name."""
    settings = settings or load_settings()
    delivery = delivery or load_delivery_settings()
    from dataops.warehouses.redshift import S3Settings

    location = delivery.store or str(settings.state_dir / "bundles")
    # The S3 endpoint and region the platform's other S3 calls use (DATAOPS_S3_*).
    s3 = settings.section(S3Settings)
    return open_store(location, endpoint_url=s3.endpoint_url or None, region=s3.region)
