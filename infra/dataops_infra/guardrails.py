"""What CloudFormation may do when it deploys the stacks, and what any role they create may ever do.

Two customer-managed IAM policies, created by ``make bootstrap`` before the stacks
(``tools/guardrails.py``), never by the stacks themselves (so no template can widen them):

- ``<prefix>-cfn-execution``: the CloudFormation execution policy of the CDK bootstrap
  (``cdk bootstrap --cloudformation-execution-policies``), instead of AdministratorAccess.
  It allows the services the stacks create resources in; IAM only for roles named
  ``<prefix>-*`` that carry the permissions boundary below, the service-linked roles of
  those services and GitHub's OIDC provider. It can change neither guardrail policy.
- ``<prefix>-permissions-boundary``: set on every role the stacks create
  (``PermissionsBoundary``): whatever a template writes into a role's policy, the role
  can never administer IAM or act beyond the services the platform runs on.

So a change merged to main (deployed by CodeBuild through the CDK roles) cannot create
an administrator, nor a role that escapes these limits.
"""

from __future__ import annotations

# The services the stacks create resources in (CloudFormation acts on them for the stacks).
DEPLOYED_SERVICES = [
    "application-autoscaling",
    "cloudwatch",
    "codebuild",
    "cognito-idp",
    "ec2",
    "ecr",
    "ecs",
    "elasticache",
    "elasticloadbalancing",
    "kms",
    "lambda",
    "logs",
    "rds",
    "redshift",
    "redshift-serverless",
    "route53",
    "s3",
    "secretsmanager",
    "servicediscovery",
]
# AWS services whose service-linked roles the stacks' resources need.
SERVICE_LINKED_ROLES = [
    "ecs.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "rds.amazonaws.com",
    "elasticache.amazonaws.com",
    "redshift.amazonaws.com",
    "redshift-serverless.amazonaws.com",
    "ecs.application-autoscaling.amazonaws.com",
]
# What the platform's roles do at run time (their own policies narrow it to named resources).
RUNTIME_ACTIONS = [
    "cloudwatch:PutMetricData",
    "codebuild:BatchGetBuilds",
    "codebuild:CreateReportGroup",
    "codebuild:CreateReport",
    "codebuild:UpdateReport",
    "codebuild:BatchPutTestCases",
    "codebuild:BatchPutCodeCoverages",
    "codebuild:StartBuild",
    "ecr:*",
    "ecs:*",
    "elasticache:ModifyReplicationGroup",
    "iam:PassRole",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "logs:*",
    "redshift:GetClusterCredentials",
    "redshift:ModifyCluster",
    "redshift-data:*",
    "redshift-serverless:GetCredentials",
    "redshift-serverless:UpdateNamespace",
    "s3:*",
    "secretsmanager:*",
    "sts:AssumeRole",
]
# IAM actions that would let a role (or CloudFormation) grant itself more.
IAM_WRITES = ["iam:Create*", "iam:Put*", "iam:Attach*", "iam:Update*", "iam:Delete*", "iam:Detach*", "iam:Set*"]


def policy_names(prefix: str) -> dict[str, str]:
    return {"execution": f"{prefix}-cfn-execution", "boundary": f"{prefix}-permissions-boundary"}


def policy_arn(account: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:policy/{name}"


def execution_policy(prefix: str, account: str, partition: str = "aws") -> dict:
    names = policy_names(prefix)
    boundary = policy_arn(account, names["boundary"], partition)
    guardrails = [policy_arn(account, name, partition) for name in names.values()]
    roles = f"arn:{partition}:iam::{account}:role/{prefix}-*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DeployedServices",
                "Effect": "Allow",
                "Action": [f"{service}:*" for service in DEPLOYED_SERVICES] + ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": "*",
            },
            {
                "Sid": "RolesOnlyWithTheBoundary",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateRole",
                    "iam:PutRolePolicy",
                    "iam:AttachRolePolicy",
                    "iam:PutRolePermissionsBoundary",
                ],
                "Resource": roles,
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}},
            },
            {
                "Sid": "ManageThePlatformsRoles",
                "Effect": "Allow",
                "Action": [
                    "iam:DeleteRole",
                    "iam:DeleteRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListRolePolicies",
                    "iam:PassRole",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:UpdateRole",
                    "iam:UpdateRoleDescription",
                ],
                "Resource": roles,
            },
            {
                "Sid": "ServiceLinkedRoles",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": SERVICE_LINKED_ROLES}},
            },
            {
                "Sid": "GitHubOidcProvider",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateOpenIDConnectProvider",
                    "iam:DeleteOpenIDConnectProvider",
                    "iam:GetOpenIDConnectProvider",
                    "iam:TagOpenIDConnectProvider",
                    "iam:UpdateOpenIDConnectProviderThumbprint",
                    "iam:AddClientIDToOpenIDConnectProvider",
                    "iam:RemoveClientIDFromOpenIDConnectProvider",
                ],
                "Resource": f"arn:{partition}:iam::{account}:oidc-provider/token.actions.githubusercontent.com",
            },
            {
                "Sid": "NeverTheGuardrailsOrABoundaryRemoval",
                "Effect": "Deny",
                "Action": [
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicy",
                    "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion",
                    "iam:DeleteRolePermissionsBoundary",
                ],
                "Resource": [*guardrails, roles],
            },
        ],
    }


def permissions_boundary(prefix: str, account: str, partition: str = "aws") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PlatformRuntime", "Effect": "Allow", "Action": RUNTIME_ACTIONS, "Resource": "*"},
            {"Sid": "NoIamChanges", "Effect": "Deny", "Action": IAM_WRITES, "Resource": "*"},
        ],
    }
