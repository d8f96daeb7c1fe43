"""The schema a CI run builds into: named from the branch or pull request, and its own.

``ci_<change>_<token>``: the change is the pull request (``pr_123``) or the
branch, lowercased to letters, digits and underscores and cut short; the
token is random, so two runs at once, even of the same change, never share a
schema. The whole name fits every warehouse's identifiers (PostgreSQL: 63).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Mapping
from pathlib import Path

PREFIX = "ci"
_LABEL_MAX = 40
_PULL_REF = re.compile(r"^refs/pull/(\d+)/")


def sanitize(text: str, max_length: int = _LABEL_MAX) -> str:
    """``feature/Fix-Sales!`` -> ``feature_fix_sales``: a plain, lowercase SQL identifier part."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return cleaned[:max_length].strip("_") or "change"


def change_label(environ: Mapping[str, str] | None = None, repo: Path | None = None) -> str:
    """What the change is called: GitHub's pull request or branch, else the checkout's branch."""
    env = os.environ if environ is None else environ
    pull = _PULL_REF.match(env.get("GITHUB_REF", ""))
    if pull:
        return f"pr_{pull.group(1)}"
    for name in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        if env.get(name):
            return sanitize(env[name])
    return sanitize(_git_branch(repo) or "local")


def _git_branch(repo: Path | None) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=repo, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    branch = done.stdout.strip()
    return branch if done.returncode == 0 and branch and branch != "HEAD" else None


def ci_schema_name(label: str, token: str | None = None) -> str:
    """``ci_<label>_<8 random hex digits>``."""
    return f"{PREFIX}_{sanitize(label)}_{token or secrets.token_hex(4)}"
