from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from dataops_infra.constructs.platform_secrets import PlatformSecrets, SecretsProps
from dataops_infra.contract import airflow_service_paths
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import log_retention, removal_policy


class SecretsStack(Stack):
    """Generated keys and credentials; the Fernet key is stored beforehand by `make generate_fernet`."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: InfraSettings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.secrets = PlatformSecrets(
            self,
            "Secrets",
            props=SecretsProps(
                prefix=settings.prefix,
                removal_policy=removal_policy(settings),
                log_retention=log_retention(settings),
                key_readers=airflow_service_paths(settings.prefix),
            ),
        )
