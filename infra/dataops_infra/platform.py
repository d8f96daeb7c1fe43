"""The whole platform: every stack, wired through typed constructor props."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import App, Environment, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks

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


def stack_names(prefix: str) -> dict[str, str]:
    """CloudFormation stack names, also used by the Makefile (`python -m dataops_infra.tools.stacks`)."""
    parts = [
        "network",
        "storage",
        "registries",
        "secrets",
        "metadata-db",
        "broker",
        "warehouse",
        "delivery",
        "dbt",
        "airflow",
    ]
    return {part: f"{prefix}-{part}" for part in parts}


def cdk_json_context() -> dict:
    """The context in cdk.json, which the CDK CLI passes to the app; tests pass the same."""
    return json.loads(Path(INFRA_DIR / "cdk.json").read_text())["context"]


def build_platform(app: App, settings: InfraSettings) -> Platform:
    env = Environment(account=settings.account, region=settings.region)
    names = stack_names(settings.prefix)

    def kwargs(part: str, description: str) -> dict:
        return {
            "stack_name": names[part],
            "env": env,
            "description": f"DataOps platform ({settings.prefix}): {description}",
        }

    network = NetworkStack(app, names["network"], settings=settings, **kwargs("network", "VPC, endpoints, flow logs"))
    storage = StorageStack(app, names["storage"], settings=settings, **kwargs("storage", "S3 buckets"))
    registries = RegistriesStack(
        app, names["registries"], settings=settings, **kwargs("registries", "ECR repositories")
    )
    secrets = SecretsStack(app, names["secrets"], settings=settings, **kwargs("secrets", "Secrets Manager"))
    metadata_db = MetadataDbStack(
        app,
        names["metadata-db"],
        settings=settings,
        network=network.network,
        secrets=secrets.secrets,
        **kwargs("metadata-db", "Airflow metadata database"),
    )
    broker = BrokerStack(
        app,
        names["broker"],
        settings=settings,
        network=network.network,
        secrets=secrets.secrets,
        **kwargs("broker", "Celery broker"),
    )
    warehouse = WarehouseStack(
        app,
        names["warehouse"],
        settings=settings,
        network=network.network,
        secrets=secrets.secrets,
        data_bucket=storage.data,
        **kwargs("warehouse", "Amazon Redshift"),
    )
    delivery = DeliveryStack(
        app,
        names["delivery"],
        settings=settings,
        artifacts_bucket=storage.artifacts,
        airflow_repository=registries.airflow,
        dbt_repository=registries.dbt,
        **kwargs("delivery", "CodeBuild and the GitHub Actions role"),
    )
    dbt = DbtStack(
        app,
        names["dbt"],
        settings=settings,
        network=network.network,
        repository=registries.dbt,
        warehouse=warehouse.endpoint,
        data_bucket=storage.data,
        artifacts_bucket=storage.artifacts,
        **kwargs("dbt", "dbt task definition"),
    )
    airflow = AirflowStack(
        app,
        names["airflow"],
        settings=settings,
        deps=AirflowDependencies(
            network=network.network,
            secrets=secrets.secrets,
            metadata_db=metadata_db.database,
            broker=broker.broker,
            warehouse=warehouse.endpoint,
            dbt=dbt.dbt,
            repository=registries.airflow,
            artifacts_bucket=storage.artifacts,
            data_bucket=storage.data,
            access_logs_bucket=storage.access_logs,
        ),
        **kwargs("airflow", "Airflow on ECS Fargate"),
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
