"""Airflow's Fernet key: print a new one, or keep it in Secrets Manager.

  python -m dataops_infra.tools.fernet            print a new key (no AWS needed)
  python -m dataops_infra.tools.fernet --store    store a new key; refuses to replace one
  python -m dataops_infra.tools.fernet --ensure   store a new key only if none exists (bootstrap)
  python -m dataops_infra.tools.fernet --delete   delete the stored key at once (destroy)

Replacing a stored key makes every connection and variable Airflow encrypted
with it unreadable, so --store never overwrites; rotate with Airflow's
``fernet_key`` list and ``airflow rotate-fernet-key`` instead.
"""

from __future__ import annotations

import argparse
import sys

from cryptography.fernet import Fernet

from dataops_infra.constructs.platform_secrets import fernet_secret_name
from dataops_infra.tools.aws_session import AwsError, session, settings_or_exit


def new_key() -> str:
    return Fernet.generate_key().decode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--store", action="store_true", help="store a new key in Secrets Manager")
    mode.add_argument("--ensure", action="store_true", help="store a new key unless one exists")
    mode.add_argument("--delete", action="store_true", help="delete the stored key without recovery window")
    args = parser.parse_args(argv)
    if not (args.store or args.ensure or args.delete):
        print(new_key())
        return

    settings = settings_or_exit()
    name = fernet_secret_name(settings.prefix)
    try:
        client = session(settings).client("secretsmanager")
    except AwsError as error:
        sys.exit(str(error))
    exists = _exists(client, name)
    if args.delete:
        if exists:
            client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
            print(f"Deleted the Fernet key {name}.")
        return
    if exists:
        if args.store:
            sys.exit(f"{name} already holds a Fernet key; replacing it would make Airflow's encrypted data unreadable.")
        print(f"Fernet key {name}: present.")
        return
    client.create_secret(
        Name=name,
        SecretString=new_key(),
        Description="Airflow's Fernet key (core.fernet_key), made by make generate_fernet",
    )
    print(f"Stored a new Fernet key in Secrets Manager as {name} (the key itself is not printed).")


def _exists(client, name: str) -> bool:
    try:
        client.describe_secret(SecretId=name)
        return True
    except client.exceptions.ResourceNotFoundException:
        return False


if __name__ == "__main__":
    main()
