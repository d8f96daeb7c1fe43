"""The whole platform: every stack, wired through typed constructor props."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from aws_cdk import App, Environment, Stack, Tags, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from dataops_infra.guardrails import policy_names
from dataops_infra.settings import INFRA_DIR, InfraSettings
from dataops_infra.stacks.airflow_stack import AirflowDependencies, AirflowStack
from dataops_infra.stacks.broker_stack import BrokerStack
from dataops_infra.stacks.dbt_stack import DbtStack
from dataops_infra.stacks.delivery_stack import DeliveryStack
from dataops_infra.stacks.metadata_db_stack import MetadataDbStack
from dataops_infra.stacks.network_stack import NetworkStack
from dataops_infra.stacks.registries_stack import RegistriesStack
from dataops_infra.stacks.secrets_stack import SecretsStack
from dataops_infra.stacks.storage_stack import StorageStack
from dataops_infra.stacks.warehouse_stack import WarehouseStack


@dataclass(frozen=True)
class Platform:
    network: NetworkStack
    storage: StorageStack
    registries: RegistriesStack
    secrets: SecretsStack
    metadata_db: MetadataDbStack
    broker: BrokerStack
    warehouse: WarehouseStack
    delivery: DeliveryStack
    dbt: DbtStack
    airflow: AirflowStack

    @property
    def core(self) -> list[Stack]:
        """`make bootstrap`: the services that rarely change."""
        return [
            self.network,
            self.storage,
            self.registries,
            self.secrets,
            self.metadata_db,
            self.broker,
            self.warehouse,
            self.delivery,
        ]

    @property
    def application(self) -> list[Stack]:
        """`make deploy`: Airflow and dbt, redeployed with each new image."""
        return [self.dbt, self.airflow]

    @property
    def stacks(self) -> list[Stack]:
        return self.core + self.application


# Each stack's part of its name and what it holds, in deployment order: `make bootstrap`
# deploys the core stacks, `make deploy` the application stacks (tools/stacks.py).
CORE_STACKS = {
    "network": "VPC, endpoints, flow logs",
    "storage": "S3 buckets",
    "registries": "ECR repositories",
    "secrets": "Secrets Manager",
    "metadata-db": "Airflow metadata database",
    "broker": "Celery broker",
    "warehouse": "Amazon Redshift",
    "delivery": "CodeBuild and the GitHub Actions role",
}
APPLICATION_STACKS = {
    "dbt": "dbt task role, security group and logs",
    "airflow": "Airflow on ECS Fargate and the dbt task definition",
}
STACKS = {**CORE_STACKS, **APPLICATION_STACKS}

AnyStack = TypeVar("AnyStack", bound=Stack)


def stack_names(prefix: str) -> dict[str, str]:
    """CloudFormation stack names, also used by the Makefile (`python -m dataops_infra.tools.stacks`)."""
    return {part: f"{prefix}-{part}" for part in STACKS}


def cdk_json_context() -> dict:
    """The context in cdk.json, which the CDK CLI passes to the app; tests pass the same."""
    return json.loads(Path(INFRA_DIR / "cdk.json").read_text())["context"]


def build_platform(app: App, settings: InfraSettings) -> Platform:
    env = Environment(account=settings.account, region=settings.region)
    names = stack_names(settings.prefix)

    def add(stack_class: type[AnyStack], part: str, **inputs: object) -> AnyStack:
        """One stack of the platform: named after its part, given the settings and what it uses from others."""
        description = f"DataOps platform ({settings.prefix}): {STACKS[part]}"
        return stack_class(
            app, names[part], settings=settings, stack_name=names[part], env=env, description=description, **inputs
        )

    network = add(NetworkStack, "network")
    storage = add(StorageStack, "storage")
    registries = add(RegistriesStack, "registries")
    secrets = add(SecretsStack, "secrets")
    metadata_db = add(MetadataDbStack, "metadata-db", network=network.network)
    broker = add(BrokerStack, "broker", network=network.network)
    warehouse = add(WarehouseStack, "warehouse", network=network.network, data_bucket=storage.data)
    delivery = add(
        DeliveryStack,
        "delivery",
        artifacts_bucket=storage.artifacts,
        airflow_repository=registries.airflow,
        dbt_repository=registries.dbt,
    )
    dbt = add(
        DbtStack, "dbt", network=network.network, warehouse=warehouse.endpoint, artifacts_bucket=storage.artifacts
    )
    airflow = add(
        AirflowStack,
        "airflow",
        deps=AirflowDependencies(
            network=network.network,
            secrets=secrets.secrets,
            metadata_db=metadata_db.database,
            broker=broker.broker,
            warehouse=warehouse.endpoint,
            dbt=dbt.dbt,
            repository=registries.airflow,
            dbt_repository=registries.dbt,
            artifacts_bucket=storage.artifacts,
            data_bucket=storage.data,
            access_logs_bucket=storage.access_logs,
        ),
    )
    # Every role the stacks create carries the permissions boundary (created by `make bootstrap`).
    boundary = policy_names(settings.prefix)["boundary"]
    for stack in (network, storage, registries, secrets, metadata_db, broker, warehouse, delivery, dbt, airflow):
        iam.PermissionsBoundary.of(stack).apply(
            iam.ManagedPolicy.from_managed_policy_name(stack, "PermissionsBoundary", boundary)
        )
    # Consumers name the buckets literally (no exports), so the order is declared.
    for consumer in (warehouse, delivery, dbt, airflow):
        consumer.add_stack_dependency(storage)
    Tags.of(app).add("project", "dataops")
    Tags.of(app).add("deployment", settings.prefix)
    return Platform(network, storage, registries, secrets, metadata_db, broker, warehouse, delivery, dbt, airflow)


def add_nag_checks(app: App) -> None:
    """cdk-nag's AwsSolutions pack as a policy-validation plugin: any unacknowledged finding fails synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
