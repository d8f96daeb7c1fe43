"""Which dbt profile a run uses: dbt's ``--profiles-dir``, ``--profile`` and ``--target``.

A project is taken as it is. One that brings its own ``profiles.yml`` runs
with the profile its ``dbt_project.yml`` names and that profile's default
target; one without gets the platform's profile (shipped in this package,
driven by the ``DATAOPS_*`` settings). Arguments (``DbtDag(profile=...)``,
``dataops dbt manifest --profile``) win over the settings
(``DATAOPS_DBT_PROFILES_DIR``, ``DATAOPS_DBT_PROFILE``, ``DATAOPS_DBT_TARGET``),
which win over the project. ``resolve`` then ``for_project`` is the one way to
get from what was asked to the flags dbt gets.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from dataops.errors import ConfigError

PROFILES_FILE = "profiles.yml"
PLATFORM_PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
PLATFORM_PROFILE = "dataops"


@dataclass(frozen=True)
class DbtProfile:
    """A dbt profile choice; a field left None is decided by what comes next."""

    profiles_dir: Path | None = None
    profile: str | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        # Settings and command lines give "" for "not set".
        object.__setattr__(self, "profiles_dir", Path(self.profiles_dir) if self.profiles_dir else None)
        object.__setattr__(self, "profile", self.profile or None)
        object.__setattr__(self, "target", self.target or None)

    @classmethod
    def from_settings(cls, settings) -> DbtProfile:
        return cls(settings.dbt_profiles_dir, settings.dbt_profile, settings.dbt_target)

    def over(self, fallback: DbtProfile) -> DbtProfile:
        """This choice, with ``fallback``'s fields where this one has none."""
        return DbtProfile(**{f.name: getattr(self, f.name) or getattr(fallback, f.name) for f in fields(self)})

    def resolve(self, settings) -> DbtProfile:
        """What was asked, completed by the settings (not yet by the project)."""
        return self.over(DbtProfile.from_settings(settings))

    def for_project(self, project_dir: Path) -> DbtProfile:
        """The profiles folder to use for ``project_dir``: the one named, else the
        project's own, else the platform's (with its profile, unless one is named)."""
        if self.profiles_dir is not None:
            folder = self.profiles_dir.expanduser().resolve()
            if not (folder / PROFILES_FILE).is_file():
                raise ConfigError(
                    f"the dbt profiles folder {folder} has no {PROFILES_FILE}: name a folder that holds one "
                    "(--profiles-dir, DbtDag(profiles_dir=...) or DATAOPS_DBT_PROFILES_DIR), or leave it unset "
                    "to use the project's own profiles.yml or the platform's profile."
                )
            return replace(self, profiles_dir=folder)
        if (Path(project_dir) / PROFILES_FILE).is_file():
            return replace(self, profiles_dir=Path(project_dir).resolve())
        return DbtProfile(PLATFORM_PROFILES_DIR, self.profile or PLATFORM_PROFILE, self.target)

    def args(self) -> list[str]:
        """dbt's flags for the fields that are set."""
        args: list[str] = []
        if self.profiles_dir is not None:
            args += ["--profiles-dir", str(self.profiles_dir)]
        if self.profile:
            args += ["--profile", self.profile]
        if self.target:
            args += ["--target", self.target]
        return args

    def describe(self) -> str:
        """For messages: "profile p, target dev, from /x/profiles.yml"."""
        parts = [f"profile {self.profile}" if self.profile else "the project's profile"]
        parts.append(f"target {self.target}" if self.target else "its default target")
        if self.profiles_dir == PLATFORM_PROFILES_DIR:
            parts.append("from the platform's profiles (DATAOPS_* settings)")
        elif self.profiles_dir is not None:
            parts.append(f"from {self.profiles_dir / PROFILES_FILE}")
        return ", ".join(parts)
