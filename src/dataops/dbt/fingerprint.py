"""A fingerprint of the files of a dbt project that shape its graph.

The graph artifact records the fingerprint of the project it was compiled
from; a DAG file recomputes it on parse, so an edited model without a
recompiled artifact is a clear error instead of a silently stale DAG.
Contents, not modification times, are hashed: a checkout or an unpacked
bundle changes mtimes without changing the project.

Hashing every file at every parse costs ~0.1 s at a thousand models, so
:func:`matches` first looks at modification times only: when no project
file or folder changed after the artifact was written, the artifact is
current and nothing is read. Only otherwise are the contents hashed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Not part of the graph: dbt's outputs, installed packages, local settings.
_SKIP_DIRS = frozenset({"target", "logs", "dbt_packages", "dbt_modules", "__pycache__", ".git"})
_SKIP_FILES = frozenset({"profiles.yml", ".user.yml", "package-lock.yml"})
_SUFFIXES = frozenset({".sql", ".yml", ".yaml", ".csv", ".py", ".md", ".jinja", ".sqlx"})


def project_fingerprint(project_dir: Path) -> str:
    root = Path(project_dir)
    digest = hashlib.blake2b(digest_size=16)
    for path in _project_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def matches(project_dir: Path, artifact: Path, fingerprint: str) -> bool:
    """Whether ``fingerprint`` (recorded in ``artifact``) is the project's current one."""
    try:
        written = os.stat(artifact).st_mtime_ns
    except OSError:
        written = -1
    if written >= 0 and _newest_change_ns(Path(project_dir)) < written:
        return True
    return project_fingerprint(project_dir) == fingerprint


def _newest_change_ns(root: Path) -> int:
    """The latest mtime of the project's files and folders (a folder's changes
    when a file in it is added, removed or renamed)."""
    newest = os.stat(root).st_mtime_ns
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in _SKIP_DIRS and not entry.name.startswith("."):
                        newest = max(newest, entry.stat(follow_symlinks=False).st_mtime_ns)
                        stack.append(entry.path)
                elif entry.name not in _SKIP_FILES and os.path.splitext(entry.name)[1] in _SUFFIXES:
                    newest = max(newest, entry.stat().st_mtime_ns)
    return newest


def _project_files(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
        for name in files:
            if name in _SKIP_FILES or os.path.splitext(name)[1] not in _SUFFIXES:
                continue
            found.append(Path(folder, name))
    return sorted(found)
