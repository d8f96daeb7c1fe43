"""Generated secrets of one stack: the admin password and the keys its
components must share (JWT signing, API sessions, Fernet encryption).

Generated once per stack folder and kept there, readable by the owner only;
never a fixed default.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from dataops.local.airflow_env import ADMIN_USER
from dataops.local.services.config import ServicesConfig, write_private


@dataclass(frozen=True)
class StackSecrets:
    admin_password: str
    jwt_secret: str
    api_secret_key: str
    fernet_key: str

    @classmethod
    def ensure(cls, config: ServicesConfig) -> StackSecrets:
        """The stack's secrets, generated on first use."""
        if config.secrets_file.is_file():
            found = cls(**json.loads(config.secrets_file.read_text()))
        else:
            found = cls(
                admin_password=secrets.token_urlsafe(16),
                jwt_secret=secrets.token_urlsafe(32),
                api_secret_key=secrets.token_urlsafe(32),
                fernet_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            )
            write_private(config.secrets_file, json.dumps(found.__dict__))
        # SimpleAuthManager reads the users' passwords from this file.
        write_private(passwords_file(config), json.dumps({ADMIN_USER: found.admin_password}))
        return found


def passwords_file(config: ServicesConfig) -> Path:
    return config.airflow_home / "simple_auth_manager_passwords.json"
