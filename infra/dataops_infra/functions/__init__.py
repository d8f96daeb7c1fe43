"""Lambda handlers the stacks deploy as code assets (standard library and boto3 only)."""
