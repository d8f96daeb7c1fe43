from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from dataops_infra.constructs.image_repository import ImageRepository
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import removal_policy


def repository_name(prefix: str, image: str) -> str:
    return f"{prefix}/{image}"


class RegistriesStack(Stack):
    """The ECR repositories of the Airflow and dbt images."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: InfraSettings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        policy = removal_policy(settings)
        self.airflow = ImageRepository(
            self, "Airflow", name=repository_name(settings.prefix, "airflow"), removal_policy=policy
        ).repository
        self.dbt = ImageRepository(
            self, "Dbt", name=repository_name(settings.prefix, "dbt"), removal_policy=policy
        ).repository
        CfnOutput(self, "AirflowRepository", value=self.airflow.repository_uri)
        CfnOutput(self, "DbtRepository", value=self.dbt.repository_uri)
