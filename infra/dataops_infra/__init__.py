"""The DataOps platform's AWS infrastructure, defined with the AWS CDK.

``settings`` reads and validates ``infra/.env``; ``constructs`` hold one concern
each; ``stacks`` compose them, split by how often they change; ``app`` wires the
stacks together and adds the cdk-nag checks.
"""
