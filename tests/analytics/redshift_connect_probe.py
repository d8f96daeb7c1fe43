"""Run by dbt's own Python (.venv-dbt), never imported by the tests' Python.

Reads ``argv[1]``, JSON ``{label: {"profiles": path, "env": {...}}}``, and prints
JSON ``{label: kwargs}``: the arguments dbt-redshift would give
``redshift_connector.connect`` for the ``redshift`` output of profile ``dataops``
in that profiles.yml, with those DATAOPS_* variables. dbt's own reading of the
profile, without a cluster (connect is replaced); ``{"error": ...}`` when
dbt-redshift refuses.
"""
import json
import os
import sys
from argparse import Namespace

import yaml
from dbt.flags import set_from_args
from dbt_common.context import set_invocation_context

set_from_args(Namespace(), None)

from dbt.adapters.factory import load_plugin  # noqa: E402

load_plugin("redshift")

import redshift_connector  # noqa: E402
from dbt.adapters.redshift.connections import get_connection_method  # noqa: E402
from dbt.config.profile import Profile  # noqa: E402
from dbt.config.renderer import ProfileRenderer  # noqa: E402

KEYS = {"host", "iam", "cluster_identifier", "serverless_work_group", "region", "is_serverless", "db_user", "database"}

seen: dict = {}
redshift_connector.connect = lambda **kwargs: seen.update(kwargs) or Namespace(autocommit=False)


def connect_kwargs(profiles: str, env: dict) -> dict:
    set_invocation_context({**os.environ, **env})
    with open(profiles) as f:
        raw = yaml.safe_load(f)
    profile = Profile.from_raw_profiles(raw, "dataops", ProfileRenderer({}), target_override="redshift")
    seen.clear()
    try:
        get_connection_method(profile.credentials)()
    except Exception as exc:  # dbt's own refusal
        return {"error": str(exc)}
    return {k: v for k, v in seen.items() if k in KEYS}


cases = json.loads(sys.argv[1])
print(json.dumps({label: connect_kwargs(case["profiles"], case["env"]) for label, case in cases.items()}))
