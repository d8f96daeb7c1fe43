"""Per-user sign-in to Airflow: a Cognito user pool as the OIDC identity provider, roles from groups.

Airflow runs the FAB auth manager with OAuth (infra/images/airflow/webserver_config.py):
each person has their own account here (no self sign-up, MFA required, strong
passwords, threat protection), and the Cognito group they are in gives their
Airflow role at every sign-in (``ROLE_GROUPS``). Someone in no group signs in
with no permission at all. Cognito can federate a company IdP (SAML/OIDC) into
the same pool. The app client is public (no secret to store or rotate) and uses
the authorization-code flow with PKCE; its only callback is Airflow's.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

# Cognito group -> FAB role (Airflow's built-in Viewer, Op and Admin).
ROLE_GROUPS = {"airflow-viewer": "Viewer", "airflow-op": "Op", "airflow-admin": "Admin"}
# FAB's OAuth callback for the provider named in webserver_config.py.
OAUTH_PROVIDER = "cognito"
CALLBACK_PATH = f"/auth/oauth-authorized/{OAUTH_PROVIDER}"


@dataclass(frozen=True)
class AirflowSignInProps:
    prefix: str
    account: str
    base_url: str
    removal_policy: RemovalPolicy


class AirflowSignIn(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: AirflowSignInProps) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"{props.prefix}-airflow",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=props.removal_policy != RemovalPolicy.DESTROY,
            removal_policy=props.removal_policy,
        )
        for group in ROLE_GROUPS:
            cognito.CfnUserPoolGroup(
                self,
                f"Group{ROLE_GROUPS[group]}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=group,
                description=f"Signs in to Airflow with the {ROLE_GROUPS[group]} role",
            )
        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"{props.prefix}-{props.account}")
        )
        self.client = self.user_pool.add_client(
            "Airflow",
            user_pool_client_name="airflow",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=False, user_password=False),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[f"{props.base_url}{CALLBACK_PATH}"],
                logout_urls=[props.base_url],
            ),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
        )
        region = Stack.of(self).region
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{self.user_pool.user_pool_id}"
