"""Credentials for the targets that talk to AWS: fail fast, say what to do."""

from __future__ import annotations

import sys

from dataops_infra.settings import InfraSettings, SettingsError, load_settings

NO_CREDENTIALS = """\
No AWS credentials found: this target talks to AWS.
Configure them first, for example:
  aws configure sso            # or: aws configure / export AWS_PROFILE=... / AWS_ACCESS_KEY_ID=...
then check with `aws sts get-caller-identity` and run the target again.
The targets that need no AWS account: make -C infra venv | synth | generate_fernet | test"""


class AwsError(RuntimeError):
    pass


def settings_or_exit() -> InfraSettings:
    try:
        return load_settings()
    except SettingsError as error:
        sys.exit(str(error))


def session(settings: InfraSettings):
    """A boto3 session for the configured region whose credentials belong to the configured account."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    boto = boto3.Session(region_name=settings.region)
    if boto.get_credentials() is None:
        raise AwsError(NO_CREDENTIALS)
    try:
        identity = boto.client("sts").get_caller_identity()
    except NoCredentialsError:
        raise AwsError(NO_CREDENTIALS) from None
    except (ClientError, BotoCoreError) as error:
        raise AwsError(f"The AWS credentials were rejected ({error}). Refresh them (e.g. `aws sso login`).") from None
    if identity["Account"] != settings.account:
        raise AwsError(
            f"The credentials are for account {identity['Account']} but INFRA_ACCOUNT is {settings.account}: "
            "set INFRA_ACCOUNT in infra/.env or switch credentials."
        )
    return boto


def main() -> None:
    settings = settings_or_exit()
    try:
        session(settings)
    except AwsError as error:
        sys.exit(str(error))
    print(f"AWS credentials OK: account {settings.account}, region {settings.region}")


if __name__ == "__main__":
    main()
