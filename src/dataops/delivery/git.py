"""What a publish reads from Git: the commit a ref names and the tree under ``analytics/``.

Bundles are built from a commit's tree (``git archive``), never from the
working tree, so uncommitted edits cannot slip into a published version.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from dataops.delivery.errors import DeliveryError

ANALYTICS = "analytics"


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    committed_at: str  # ISO 8601, the committer's date
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:7]


def _git(repo: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=text, check=False)
    except FileNotFoundError:
        raise DeliveryError("git is not installed: install Git to publish bundles.") from None


def resolve_commit(repo: Path, ref: str) -> Commit:
    """The commit ``ref`` names in ``repo``; one clear line when there is none."""
    probe = _git(repo, "rev-parse", "--git-dir")
    if probe.returncode != 0:
        raise DeliveryError(f"{repo} is not a Git repository: run publish from a checkout of the platform, or pass --repo.")
    found = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise DeliveryError(
            f"unknown Git ref {ref!r} in {repo}: name a branch, tag or commit that exists there (see `git log`)."
        )
    sha = found.stdout.strip()
    shown = _git(repo, "show", "-s", "--format=%an <%ae>%x00%cI%x00%s", sha)
    author, committed_at, subject = shown.stdout.rstrip("\n").split("\x00", 2)
    return Commit(sha=sha, author=author, committed_at=committed_at, subject=subject)


def export_tree(repo: Path, commit: Commit, folders: tuple[str, ...], dest: Path) -> None:
    """Writes ``analytics/<folder>`` of ``commit`` to ``dest/<folder>`` for each folder."""
    paths = [f"{ANALYTICS}/{folder}" for folder in folders]
    present = _git(repo, "ls-tree", "-d", "--name-only", commit.sha, *paths)
    missing = sorted(set(paths) - set(present.stdout.split()))
    if missing:
        raise DeliveryError(
            f"commit {commit.short} has no {' or '.join(missing)}: publish a commit of the platform's repository."
        )
    archived = _git(repo, "archive", "--format=tar", commit.sha, *paths, text=False)
    if archived.returncode != 0:
        raise DeliveryError(f"`git archive` failed for commit {commit.short}: {archived.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archived.stdout)) as tar:
        members = []
        for member in tar.getmembers():
            if not member.name.startswith(f"{ANALYTICS}/"):
                continue  # the analytics/ folder itself
            if member.issym() or member.islnk():
                raise DeliveryError(
                    f"{member.name} at commit {commit.short} is a link: bundles hold regular files only; "
                    "commit the file itself."
                )
            member.name = member.name.removeprefix(f"{ANALYTICS}/")
            members.append(member)
        tar.extractall(dest, members=members, filter="data")
