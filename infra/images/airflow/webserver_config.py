"""FAB auth manager settings: sign-in through the OIDC identity provider, roles from its groups.

Airflow reads this file through ``[fab] config_file`` (AIRFLOW__FAB__CONFIG_FILE). The
CDK app gives the provider's issuer and the app client's id as plain settings
(DATAOPS_OIDC_ISSUER, DATAOPS_OIDC_CLIENT_ID); the client is public and uses PKCE, so
there is no client secret. A user's Airflow role is set from their groups at every
sign-in; a user in none of the groups gets FAB's empty ``Public`` role.
"""

import os

from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride
from flask_appbuilder.const import AUTH_OAUTH

# Identity provider group -> Airflow role (kept equal to dataops_infra/constructs/airflow_sign_in.py).
ROLE_GROUPS = {"airflow-viewer": "Viewer", "airflow-op": "Op", "airflow-admin": "Admin"}
GROUPS_CLAIM = "cognito:groups"

AUTH_TYPE = AUTH_OAUTH
AUTH_USER_REGISTRATION = True
AUTH_USER_REGISTRATION_ROLE = "Public"
AUTH_ROLES_SYNC_AT_LOGIN = True
AUTH_ROLES_MAPPING = {group: [role] for group, role in ROLE_GROUPS.items()}
# Sessions end with the identity provider's tokens (one hour).
PERMANENT_SESSION_LIFETIME = 3600

_ISSUER = os.environ["DATAOPS_OIDC_ISSUER"]
OAUTH_PROVIDERS = [
    {
        "name": "cognito",
        "icon": "fa-aws",
        "token_key": "access_token",
        "remote_app": {
            "client_id": os.environ["DATAOPS_OIDC_CLIENT_ID"],
            "client_secret": None,
            "server_metadata_url": f"{_ISSUER}/.well-known/openid-configuration",
            "client_kwargs": {"scope": "openid email profile", "code_challenge_method": "S256"},
        },
    }
]


def user_info(claims: dict) -> dict:
    """FAB's user record from the ID token's verified claims: the email is the user name, groups give roles."""
    return {
        "username": claims["email"],
        "email": claims["email"],
        "first_name": claims.get("given_name", ""),
        "last_name": claims.get("family_name", ""),
        "role_keys": list(claims.get(GROUPS_CLAIM, [])),
    }


class OidcGroupsSecurityManager(FabAirflowSecurityManagerOverride):
    def get_oauth_user_info(self, provider, resp):  # noqa: ANN001 (FAB's signature)
        # Authlib has checked the ID token's signature, issuer, audience and nonce into "userinfo".
        return user_info(resp["userinfo"])


SECURITY_MANAGER_CLASS = OidcGroupsSecurityManager
