from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from dataops_infra.constructs.platform_secrets import PlatformSecrets, SecretsProps
from dataops_infra.settings import InfraSettings
from dataops_infra.stacks.common import removal_policy


class SecretsStack(Stack):
    """Generated keys and credentials; the Fernet key is stored beforehand by `make generate_fernet`."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: InfraSettings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.secrets = PlatformSecrets(
            self,
            "Secrets",
            props=SecretsProps(
                prefix=settings.prefix,
                warehouse_admin_user=settings.redshift_admin_user,
                removal_policy=removal_policy(settings),
            ),
        )
