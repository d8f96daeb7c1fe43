"""The load balancer on its own: internal when asked, and never plain HTTP to the internet once CIDRs are open."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from dataops_infra.constructs.airflow_load_balancer import AirflowLoadBalancer, AirflowLoadBalancerProps
from dataops_infra.platform import cdk_json_context
from tests.helpers import only, resources


def balancer(**overrides) -> Stack:
    app = App(context=cdk_json_context())
    stack = Stack(app, "Test", env=Environment(account="123456789012", region="us-east-1"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    props = {
        "vpc": vpc,
        "internet_facing": True,
        "allowed_cidrs": [],
        "certificate_arn": None,
        "public_hostname": None,
        "access_logs_bucket": s3.Bucket.from_bucket_name(stack, "Logs", "logs-bucket"),
        "deletion_protection": False,
    }
    load_balancer = AirflowLoadBalancer(stack, "LoadBalancer", props=AirflowLoadBalancerProps(**{**props, **overrides}))
    load_balancer.listener.add_action("Fixed", action=elbv2.ListenerAction.fixed_response(200))
    return stack


def test_an_internet_facing_balancer_with_cidrs_and_no_certificate_is_refused():
    with pytest.raises(ValueError, match="needs a certificate"):
        balancer(allowed_cidrs=["203.0.113.0/24"])


def test_an_internal_balancer_sits_in_the_private_subnets_and_may_serve_http():
    template = Template.from_stack(balancer(internet_facing=False, allowed_cidrs=["10.8.0.0/16"]))
    props = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    assert props["Scheme"] == "internal"
    assert all("Private" in str(subnet) for subnet in props["Subnets"])
    [listener] = resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    assert (listener["Properties"]["Port"], listener["Properties"]["Protocol"]) == (80, "HTTP")
