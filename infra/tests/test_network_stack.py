from __future__ import annotations

from aws_cdk.assertions import Template

from dataops_infra.platform import Platform
from tests.helpers import resources

# Image pull, logs, secrets, ECS (dbt runs), CloudWatch metrics (queue depth), Redshift (IAM credentials).
INTERFACE_SERVICES = {"ecr.api", "ecr.dkr", "logs", "secretsmanager", "ecs", "monitoring", "redshift"}


def subnets_by_type(template: Template) -> dict[str, int]:
    counts: dict[str, int] = {}
    for subnet in resources(template, "AWS::EC2::Subnet").values():
        tags = {tag["Key"]: tag["Value"] for tag in subnet["Properties"]["Tags"]}
        kind = tags["aws-cdk:subnet-type"]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_vpc_spans_two_zones_with_three_tiers(templates):
    network = templates["dataops-network"]
    network.resource_count_is("AWS::EC2::VPC", 1)
    assert subnets_by_type(network) == {"Public": 2, "Private": 2, "Isolated": 2}
    network.resource_count_is("AWS::EC2::NatGateway", 1)


def test_endpoints_keep_aws_api_traffic_in_the_vpc(templates, settings):
    network = templates["dataops-network"]
    endpoints = resources(network, "AWS::EC2::VPCEndpoint").values()
    gateway = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Gateway"]
    interface = [e for e in endpoints if e["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(gateway) == 1 and "s3" in str(gateway[0]["Properties"]["ServiceName"])
    names = {str(e["Properties"]["ServiceName"]) for e in interface}
    assert len(interface) == len(INTERFACE_SERVICES), names
    for service in INTERFACE_SERVICES:
        assert any(name.endswith(f".{service}") for name in names), (service, names)
    assert all(e["Properties"]["PrivateDnsEnabled"] for e in interface)
    # The endpoints' security groups admit HTTPS from the VPC's own range, nothing else.
    groups = resources(network, "AWS::EC2::SecurityGroup").values()
    assert len(groups) == len(INTERFACE_SERVICES)
    for group in groups:
        assert [(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in group["Properties"]["SecurityGroupIngress"]] == [
            (settings.vpc_cidr, 443, 443)
        ]


def test_flow_logs_capture_all_traffic(templates):
    network = templates["dataops-network"]
    network.has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    network.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_serverless_variant_spans_three_zones(serverless_platform: Platform):
    network = Template.from_stack(serverless_platform.network)
    assert subnets_by_type(network) == {"Public": 3, "Private": 3, "Isolated": 3}
