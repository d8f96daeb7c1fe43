"""The files a Docker image really gets: its Dockerfile's COPY lines, from the build
context filtered by the Dockerfile's ignore file, materialized into a folder.

The build context is the repository root (``docker build -f infra/images/X/Dockerfile .``)
and BuildKit reads ``<Dockerfile>.dockerignore`` beside the Dockerfile. Only what
the platform's Dockerfiles use is supported (``COPY [--chown] [--chmod] SRC... DEST``
from the context, no wildcards in sources, no ``ADD``, no ``COPY --from``):
anything else raises, so a Dockerfile this module cannot read is never
silently misread.

Ignore rules are Docker's (moby/patternmatcher, which BuildKit uses), written
here rather than taken from ``pathspec``'s gitwildmatch, because Git's rules
differ where it matters: in Git a pattern without a slash (``*.pyc``,
``target``) matches at any depth, in Docker only at the context's root; Git
cannot re-include a file whose parent folder is excluded, Docker can
(``*`` then ``!src/``). Docker's rules, in short: each line is cleaned like a
path (trailing ``/`` dropped, a leading ``/`` too); ``*`` matches within one
path segment, ``?`` one character, ``**`` any number of segments (``**/`` also
none); a pattern matches a path when it matches the path or one of its parent
folders; ``!`` re-includes; the last matching line wins.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

_WILDCARDS = "*?[\\"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    dest: str


def copies(dockerfile: Path) -> list[Copy]:
    """The COPY instructions from the build context, in order."""
    found = []
    for keyword, args in instructions(dockerfile):
        if keyword == "ADD":
            raise ValueError(f"{dockerfile}: ADD is not supported here; use COPY")
        if keyword != "COPY":
            continue
        if args.startswith("["):
            raise ValueError(f"{dockerfile}: COPY in JSON form is not supported here: {args}")
        parts = args.split()
        options = [p for p in parts if p.startswith("--")]
        if any(not re.match(r"--(chown|chmod)=", option) for option in options):
            raise ValueError(f"{dockerfile}: unsupported COPY option in {args!r} (only --chown, --chmod)")
        paths = [p for p in parts if not p.startswith("--")]
        if len(paths) < 2:
            raise ValueError(f"{dockerfile}: COPY needs a source and a destination: {args!r}")
        sources, dest = paths[:-1], paths[-1]
        if any(c in source for source in sources for c in _WILDCARDS):
            raise ValueError(f"{dockerfile}: wildcards in COPY sources are not supported here: {args!r}")
        if len(sources) > 1 and not dest.endswith("/"):
            raise ValueError(f"{dockerfile}: COPY of several sources needs a destination ending in '/': {args!r}")
        found.append(Copy(tuple(posixpath.normpath(s).lstrip("/") for s in sources), dest))
    return found


@dataclass(frozen=True)
class _Pattern:
    text: str
    exclusion: bool  # a "!" line: re-includes what it matches
    regex: re.Pattern

    @property
    def literal_prefix(self) -> str:
        """The pattern up to its first wildcard: any path it matches starts with this."""
        cut = min((i for i, c in enumerate(self.text) if c in _WILDCARDS), default=len(self.text))
        return self.text[:cut]


def _compile(pattern: str) -> re.Pattern:
    """moby/patternmatcher's translation of one cleaned pattern into a regular expression."""
    out, i, n = "^", 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 1
                if i + 1 < n and pattern[i + 1] == "/":
                    i += 1  # "**/" is "**"
                out += ".*" if i + 1 >= n else "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\":
            i += 1
            if i < n:
                out += re.escape(pattern[i])
        elif ch in "[]":
            out += ch  # character classes pass through, as in Go's filepath.Match
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + "$")


class DockerIgnore:
    """A ``.dockerignore``'s patterns, matched as Docker matches them (see the module's docstring)."""

    def __init__(self, lines: list[str]):
        self.patterns: list[_Pattern] = []
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            exclusion = line.startswith("!")
            if exclusion:
                line = line[1:].strip()
            cleaned = posixpath.normpath(line)
            if len(cleaned) > 1 and cleaned.startswith("/"):
                cleaned = cleaned[1:]
            self.patterns.append(_Pattern(cleaned, exclusion, _compile(cleaned)))

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        return cls(path.read_text().splitlines() if path.exists() else [])

    def excluded(self, rel: str) -> bool:
        """Whether ``rel`` (a POSIX path relative to the context) stays out of the build context."""
        parents = rel.split("/")[:-1]
        prefixes = ["/".join(parents[: i + 1]) for i in range(len(parents))]
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue  # cannot change the verdict
            if pattern.regex.match(rel) or any(pattern.regex.match(p) for p in prefixes):
                matched = not pattern.exclusion
        return matched

    def may_include_below(self, folder: str) -> bool:
        """Whether some ``!`` line could re-include a path inside the excluded ``folder``."""
        for pattern in self.patterns:
            if pattern.exclusion:
                prefix = pattern.literal_prefix
                if prefix.startswith(folder + "/") or (folder + "/").startswith(prefix):
                    return True
        return False


def context_files(context: Path, ignore: DockerIgnore) -> set[str]:
    """The files (and symlinks) of the build context that are sent, as POSIX paths."""
    sent = set()
    for folder, dirs, files in os.walk(context):
        rel_folder = Path(folder).relative_to(context).as_posix()
        rel_folder = "" if rel_folder == "." else rel_folder
        kept_dirs = []
        for name in dirs:
            rel = f"{rel_folder}/{name}" if rel_folder else name
            if os.path.islink(os.path.join(folder, name)):
                if not ignore.excluded(rel):
                    sent.add(rel)
            elif not ignore.excluded(rel) or ignore.may_include_below(rel):
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in files:
            rel = f"{rel_folder}/{name}" if rel_folder else name
            if not ignore.excluded(rel):
                sent.add(rel)
    return sent


def image_files(dockerfile: Path, context: Path) -> dict[str, str]:
    """Each file the COPY lines put in the image (absolute image path) -> its context path."""
    sent = context_files(context, DockerIgnore.read(dockerfile.with_name(dockerfile.name + ".dockerignore")))
    placed: dict[str, str] = {}
    for copy in copies(dockerfile):
        for source in copy.sources:
            below = sorted(rel for rel in sent if rel.startswith(source + "/"))
            if source in sent:  # a file
                dest = posixpath.join(copy.dest, posixpath.basename(source)) if copy.dest.endswith("/") else copy.dest
                placed[posixpath.normpath(dest)] = source
            elif below:  # a folder: its contents go into the destination
                for rel in below:
                    placed[posixpath.normpath(posixpath.join(copy.dest, rel[len(source) + 1 :]))] = rel
            else:
                raise ValueError(f"{dockerfile}: COPY {source}: not in the build context (missing or ignored)")
    return placed


def materialize(dockerfile: Path, context: Path, root: Path) -> dict[str, str]:
    """Copies the image's files from ``context`` under ``root`` (``/opt/x`` -> ``root/opt/x``)."""
    placed = image_files(dockerfile, context)
    for image_path, rel in placed.items():
        target = root / image_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(context / rel, target, follow_symlinks=False)
    return placed
