"""CloudFormation custom resource: run SQL statements in Redshift through the Data API.

The warehouse stack gives it, as resource properties, the statements that create the
platform's least-privilege users and their grants; it runs them one by one, as the
admin user whose managed secret it reads, and answers CloudFormation only when each
has finished. ``CREATE USER``/``CREATE SCHEMA`` on an existing object count as done,
so an update (or a re-run) converges. Deleting the resource changes nothing in the
warehouse: users that own data are never dropped behind the operator's back.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

POLL_SECONDS = 2
ALREADY_EXISTS = "already exists"


def run_statements(client: Any, properties: dict, *, sleep=time.sleep, deadline: float | None = None) -> int:
    """Run ``properties['Statements']`` in order; return how many ran. Raises on the first failure."""
    target = {"Database": properties["Database"], "SecretArn": properties["SecretArn"]}
    if properties.get("WorkgroupName"):
        target["WorkgroupName"] = properties["WorkgroupName"]
    else:
        target["ClusterIdentifier"] = properties["ClusterIdentifier"]
    for sql in properties["Statements"]:
        statement_id = client.execute_statement(Sql=sql, **target)["Id"]
        while True:
            described = client.describe_statement(Id=statement_id)
            status = described["Status"]
            if status == "FINISHED":
                break
            if status in ("FAILED", "ABORTED"):
                error = described.get("Error", status)
                if ALREADY_EXISTS in error and sql.upper().startswith(("CREATE USER", "CREATE SCHEMA")):
                    break
                raise RuntimeError(f"{sql!r} failed: {error}")
            if deadline is not None and time.time() > deadline:
                raise TimeoutError(f"{sql!r} still {status} when the function's time ran out")
            sleep(POLL_SECONDS)
    return len(properties["Statements"])


def respond(event: dict, status: str, reason: str, physical_id: str) -> None:
    """Answer CloudFormation at the pre-signed URL of the event."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3000],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 (CloudFormation's https URL)
        pass


def handler(event: dict, context: Any, client: Any = None) -> None:
    physical_id = event.get("PhysicalResourceId") or f"warehouse-sql-{event['LogicalResourceId']}"
    try:
        if event["RequestType"] in ("Create", "Update"):
            if client is None:
                import boto3

                client = boto3.client("redshift-data")
            deadline = time.time() + context.get_remaining_time_in_millis() / 1000 - 20
            count = run_statements(client, event["ResourceProperties"], deadline=deadline)
            respond(event, "SUCCESS", f"{count} statements ran", physical_id)
        else:
            respond(event, "SUCCESS", "nothing to undo: users and grants stay", physical_id)
    except Exception as error:  # every failure must reach CloudFormation, or the stack waits an hour
        respond(event, "FAILED", str(error), physical_id)
