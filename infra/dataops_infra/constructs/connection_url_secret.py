"""A secret holding connection URLs that embed a generated password.

Airflow wants whole URLs (``sql_alchemy_conn``, ``broker_url``...). The URL is
assembled by CloudFormation: the template carries only a dynamic reference
(``{{resolve:secretsmanager:...}}``) to the password, which CloudFormation
resolves while it creates this secret, so the password never appears in the
template, in cdk.out, or in a task definition. ECS then injects each field as a
container secret.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy, SecretValue
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.nag import acknowledge


def password_reference(secret: sm.ISecret, field: str | None = None) -> str:
    """A dynamic reference to ``secret`` (or one JSON ``field`` of it), for use inside a string."""
    value = secret.secret_value_from_json(field) if field else secret.secret_value
    return value.unsafe_unwrap()  # a {{resolve:...}} token, not the secret itself


class ConnectionUrlSecret(Construct):
    """A JSON secret whose fields are connection URLs built from dynamic references."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        secret_name: str,
        description: str,
        urls: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret = sm.Secret(
            self,
            "Secret",
            secret_name=secret_name,
            description=description,
            # Nothing to keep: the next deploy builds it again from the source password.
            removal_policy=RemovalPolicy.DESTROY,
            secret_object_value={key: SecretValue.unsafe_plain_text(url) for key, url in urls.items()},
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "Derived secret: CloudFormation rebuilds it from the generated password on each deploy; "
            "rotating it alone would break the URL. Rotate the source password and redeploy "
            "(infra/README.md, Secrets).",
        )
