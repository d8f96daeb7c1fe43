"""The deployment's settings: ``infra/.env`` and ``INFRA_*`` environment variables.

Every key is ``INFRA_<FIELD>`` (``INFRA_REGION=eu-west-1``); the environment
wins over the file. Nothing here is secret: passwords and keys are generated in
Secrets Manager at deploy time, never configured. With no ``.env`` at all the
defaults synthesize a complete (closed-to-the-world) platform for a dummy
account, which is what the offline tests use.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

INFRA_DIR = Path(__file__).resolve().parent.parent
ENV_PREFIX = "INFRA_"
DUMMY_ACCOUNT = "123456789012"

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

CommaSeparated = Annotated[list[str], NoDecode]

# The most addresses INFRA_ALLOWED_CIDRS may cover together (a /8): beyond that the
# list opens the UI to a good part of the internet, however it is spelled.
MAX_ALLOWED_ADDRESSES = 2**24
# An image tag is the commit it was built from: 7 to 40 hexadecimal digits.
COMMIT_TAG = r"^[0-9a-f]{7,40}$"


class SettingsError(ValueError):
    """A bad key in .env or the environment, named the way the user wrote it."""


def _valid_fargate_memory(cpu: int) -> range | None:
    steps = {
        256: range(512, 2049, 512),
        512: range(1024, 4097, 1024),
        1024: range(2048, 8193, 1024),
        2048: range(4096, 16385, 1024),
        4096: range(8192, 30721, 1024),
        8192: range(16384, 61441, 4096),
        16384: range(32768, 122881, 8192),
    }
    return steps.get(cpu)


class InfraSettings(BaseSettings):
    """All knobs of the AWS deployment, with defaults that synthesize offline."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # Where and under which names.
    account: str = Field(DUMMY_ACCOUNT, pattern=r"^\d{12}$")
    region: str = Field("us-east-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    prefix: str = Field("dataops", pattern=r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
    # Empty: CDK picks two zones (from cdk.json for the dummy account, else a lookup).
    availability_zones: CommaSeparated = []
    vpc_cidr: str = "10.42.0.0/16"
    nat_gateways: int = Field(1, ge=1, le=3)

    # Who may reach the Airflow UI/API; empty keeps the load balancer closed.
    allowed_cidrs: CommaSeparated = []
    # internet-facing (public subnets, needs a certificate once CIDRs are open) or internal
    # (private subnets: reachable from the VPC and networks peered or connected to it).
    load_balancer_scheme: str = Field("internet-facing", pattern=r"^(internet-facing|internal)$")
    # With a certificate the load balancer serves HTTPS and redirects HTTP.
    certificate_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$")
    # The name users type (a DNS record you point at the load balancer); else its DNS name.
    public_hostname: str | None = Field(
        None, pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
    )

    # Protection of stateful resources (RDS, Redshift, buckets, load balancer).
    deletion_protection: bool = True
    log_retention_days: int = 30

    # Metadata database (RDS PostgreSQL).
    metadata_db_instance_type: str = Field("t4g.small", pattern=r"^[a-z][a-z0-9]*\.[a-z0-9]+$")
    metadata_db_storage_gb: int = Field(20, ge=20, le=1000)
    metadata_db_multi_az: bool = False
    metadata_db_backup_days: int = Field(7, ge=1, le=35)

    # Celery broker (ElastiCache).
    broker_engine: str = Field("valkey", pattern=r"^(valkey|redis)$")
    broker_engine_version: str = "8.0"
    broker_node_type: str = Field("cache.t4g.micro", pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    # Replicas in the other zone; one or more turns on Multi-AZ with automatic failover.
    broker_replicas: int = Field(0, ge=0, le=5)

    # Warehouse (Amazon Redshift).
    redshift_serverless: bool = False
    redshift_node_type: str = Field("ra3.large", pattern=r"^(ra3|dc2)\.[a-z0-9]+$")
    redshift_nodes: int = Field(1, ge=1, le=32)
    redshift_serverless_base_rpu: int = Field(8, ge=8, le=1024, multiple_of=8)
    redshift_database: str = Field("dataops", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    redshift_admin_user: str = Field("dataops_admin", pattern=r"^[a-z_][a-z0-9_]{0,62}$")

    # Airflow on ECS Fargate.
    # The commit the images were built from (immutable tags); empty: this checkout's HEAD.
    image_tag: str = ""
    airflow_cpu: int = 1024
    airflow_memory: int = 2048
    worker_cpu: int = 1024
    worker_memory: int = 4096
    # Workers scale on the Celery queue between these bounds; at least one takes the first task.
    worker_min: int = Field(1, ge=1, le=50)
    worker_max: int = Field(4, ge=1, le=50)
    dbt_cpu: int = 1024
    dbt_memory: int = 2048

    # Delivery: the GitHub repository (owner/name) whose Actions may start the builds.
    github_repository: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    # An existing GitHub OIDC provider in the account (there can be only one per account).
    github_oidc_provider_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
    )

    @field_validator(
        "certificate_arn", "public_hostname", "github_repository", "github_oidc_provider_arn", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("availability_zones", "allowed_cidrs", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("availability_zones")
    @classmethod
    def _zone_names(cls, zones: list[str]) -> list[str]:
        for zone in zones:
            if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]", zone):
                raise ValueError(f"{zone!r} is not an availability zone name (like us-east-1a)")
        return zones

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        network = _parse_cidr(value)
        if not network.is_private or not 16 <= network.prefixlen <= 20:
            raise ValueError("must be a private IPv4 range from /16 to /20 (like 10.42.0.0/16)")
        return str(network)

    @field_validator("allowed_cidrs")
    @classmethod
    def _restricted_cidrs(cls, values: list[str]) -> list[str]:
        networks = [_parse_cidr(value) for value in values]
        covered = addresses_covered(networks)
        if covered >= 2**32:
            raise ValueError(
                f"{','.join(map(str, networks))} covers the whole internet (every IPv4 address); "
                "list your office or VPN ranges instead"
            )
        if covered > MAX_ALLOWED_ADDRESSES:
            raise ValueError(
                f"{','.join(map(str, networks))} covers {covered:,} addresses, more than a /8 "
                f"({MAX_ALLOWED_ADDRESSES:,}); list your office or VPN ranges instead"
            )
        return [str(network) for network in networks]

    @field_validator("image_tag", mode="before")
    @classmethod
    def _commit_tag(cls, value: object) -> object:
        value = value.strip() if isinstance(value, str) else value
        if value in (None, ""):
            value = checkout_commit()
        if not isinstance(value, str) or not re.fullmatch(COMMIT_TAG, value):
            raise ValueError(
                "must be the commit the images were built from (7 to 40 hex digits, as infra-images tags them); "
                "mutable tags such as 'latest' are refused"
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts only {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> InfraSettings:
        for name in ("airflow", "worker", "dbt"):
            cpu, memory = getattr(self, f"{name}_cpu"), getattr(self, f"{name}_memory")
            allowed = _valid_fargate_memory(cpu)
            if allowed is None:
                raise _FieldError(f"{name}_cpu", "Fargate accepts 256, 512, 1024, 2048, 4096, 8192 or 16384", cpu)
            if memory not in allowed:
                raise _FieldError(
                    f"{name}_memory",
                    f"with {ENV_PREFIX}{name.upper()}_CPU={cpu} Fargate accepts "
                    f"{allowed.start}..{allowed.stop - 1} MiB in steps of {allowed.step}",
                    memory,
                )
        if self.worker_min > self.worker_max:
            raise _FieldError("worker_min", f"must not exceed INFRA_WORKER_MAX ({self.worker_max})", self.worker_min)
        if self.redshift_serverless and len(self.availability_zones) not in (0, 3):
            raise _FieldError(
                "availability_zones",
                "Redshift Serverless needs subnets in three zones: list three or none",
                ",".join(self.availability_zones),
            )
        if self.allowed_cidrs and not self.certificate_arn:
            if self.internet_facing:
                reason = (
                    "an internet-facing load balancer with INFRA_ALLOWED_CIDRS would serve sign-ins over the "
                    "internet in plain HTTP: set an ACM certificate ARN (HTTPS), or keep the CIDRs empty"
                )
            else:
                reason = (
                    "sign-in needs HTTPS even on an internal load balancer (the identity provider returns users "
                    "only to an https:// address): set an ACM certificate ARN for its name"
                )
            raise _FieldError("certificate_arn", reason, None)
        if self.public_hostname and not self.certificate_arn:
            raise _FieldError(
                "public_hostname", "needs INFRA_CERTIFICATE_ARN (a certificate for that name)", self.public_hostname
            )
        return self

    @property
    def zone_count(self) -> int:
        """Redshift Serverless requires three zones; everything else runs in two."""
        return 3 if self.redshift_serverless else 2

    @property
    def https(self) -> bool:
        return self.certificate_arn is not None

    @property
    def internet_facing(self) -> bool:
        return self.load_balancer_scheme == "internet-facing"

    def as_environment(self) -> dict[str, str]:
        """The settings as ``INFRA_*`` variables (for the CodeBuild deploy project)."""
        env = {}
        for name, value in self.model_dump(exclude_none=True).items():
            if isinstance(value, list):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = str(value).lower()
            env[f"{ENV_PREFIX}{name.upper()}"] = str(value)
        return env


class _FieldError(ValueError):
    def __init__(self, field: str, message: str, value: object) -> None:
        super().__init__(message)
        self.field, self.message, self.value = field, message, value


def _parse_cidr(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IPv4 CIDR block: {exc}") from None


def addresses_covered(networks: list[ipaddress.IPv4Network]) -> int:
    """How many distinct addresses the networks cover together (overlaps counted once)."""
    return sum(network.num_addresses for network in ipaddress.collapse_addresses(networks))


def checkout_commit() -> str:
    """The commit of this checkout (the tag infra-images pushed for it); '' outside Git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=INFRA_DIR, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def env_file() -> Path:
    """``infra/.env``, or the file named by ``INFRA_ENV_FILE`` (tests point it elsewhere)."""
    return Path(os.environ.get("INFRA_ENV_FILE", INFRA_DIR / ".env"))


def load_settings(**overrides: object) -> InfraSettings:
    """Settings from the environment and the env file, ``overrides`` on top.

    Raises ``SettingsError`` naming each bad key as the user spells it.
    """
    try:
        return InfraSettings(_env_file=env_file(), **overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = [f"Invalid infrastructure settings (check {env_file()} and INFRA_* variables):"]
    for error in exc.errors():
        context = error.get("ctx", {}).get("error")
        if isinstance(context, _FieldError):
            lines.append(_line(context.field, context.message, context.value))
            continue
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = str(context) if isinstance(context, ValueError) else error["msg"]
        lines.append(_line(field, message.removeprefix("Value error, "), error.get("input")))
    return "\n".join(lines)


def _line(field: str, message: str, value: object) -> str:
    shown = "" if isinstance(value, dict) or value is None else f" (got {value!r})"
    return f"  {ENV_PREFIX}{field.upper()}: {message}{shown}"
