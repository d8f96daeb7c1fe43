"""The report of a CI run: each step's outcome and time, what changed, what was built,
the tests that passed and failed by name; as text, and as Markdown for GitHub's
job summary (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
_MARK = {PASSED: "✅", FAILED: "❌", SKIPPED: "➖"}


@dataclass
class Step:
    name: str
    status: str
    seconds: float
    # One line: what it did ("2 changed models, 0 violations").
    summary: str
    # The lines naming what failed (file:line, model, test).
    problems: list[str] = field(default_factory=list)


@dataclass
class CiReport:
    schema: str
    target: str
    state_origin: str
    state_found: bool
    steps: list[Step] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    tests_passed: list[str] = field(default_factory=list)
    tests_failed: list[str] = field(default_factory=list)
    dropped: tuple[str, ...] = ()
    drop_error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(step.status != FAILED for step in self.steps) and not self.drop_error

    @property
    def problems(self) -> list[str]:
        return [problem for step in self.steps for problem in step.problems]

    def text(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [f"dataops ci {verdict} in {self.seconds:.1f} s (target {self.target}, schema {self.schema})"]
        lines.append(f"  production state: {self.state_origin}")
        for step in self.steps:
            lines.append(f"  {step.name:<8} {step.status:<8} {step.seconds:6.1f} s  {step.summary}")
        lines.append(f"  changed models ({len(self.changed)}): {_names(self.changed)}")
        lines.append(f"  built ({len(self.built)}): {_names(self.built)}")
        if self.skipped:
            lines.append(f"  skipped after a failure ({len(self.skipped)}): {_names(self.skipped)}")
        lines.append(f"  tests passed ({len(self.tests_passed)}): {_names(self.tests_passed)}")
        lines.append(f"  tests failed ({len(self.tests_failed)}): {_names(self.tests_failed)}")
        lines.append(f"  {self.drop_error}" if self.drop_error else f"  dropped schema {_names(list(self.dropped))}")
        if self.problems:
            lines.append("problems:")
            lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)

    def markdown(self) -> str:
        verdict = "passed" if self.passed else "failed"
        lines = [
            f"## dataops ci {_MARK[PASSED if self.passed else FAILED]} {verdict} in {self.seconds:.1f} s",
            "",
            f"Target `{self.target}`, schema `{self.schema}` "
            f"({self.drop_error or 'dropped afterwards'}). Production state: {self.state_origin}.",
            "",
            "| step | outcome | time | |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {s.name} | {_MARK[s.status]} {s.status} | {s.seconds:.1f} s | {_cell(s.summary)} |" for s in self.steps
        ]
        lines += [
            "",
            f"**Changed models ({len(self.changed)})**: {_code(self.changed)}",
            "",
            f"**Built ({len(self.built)})**: {_code(self.built)}",
            "",
            f"**Tests passed ({len(self.tests_passed)})**: {_code(self.tests_passed)}",
            "",
            f"**Tests failed ({len(self.tests_failed)})**: {_code(self.tests_failed)}",
        ]
        if self.skipped:
            lines += ["", f"**Skipped after a failure ({len(self.skipped)})**: {_code(self.skipped)}"]
        if self.problems:
            lines += ["", "### Problems", "", "```", *self.problems, "```"]
        return "\n".join(lines) + "\n"


def write_step_summary(report: CiReport, environ: Mapping[str, str] | None = None) -> Path | None:
    """Appends the Markdown report to GitHub's ``$GITHUB_STEP_SUMMARY``, when there is one."""
    target = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as out:
        out.write(report.markdown())
    return Path(target)


def _names(names: list[str], limit: int = 50) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _code(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "none"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
