#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth` (run by `make -C infra synth/bootstrap/deploy`)."""

from __future__ import annotations

import sys

from aws_cdk import App

from dataops_infra.platform import add_nag_checks, build_platform
from dataops_infra.settings import SettingsError, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.exit(str(error))
    app = App()
    build_platform(app, settings)
    add_nag_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
