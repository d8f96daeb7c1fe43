"""The detached supervisor: ``python -m dataops.local.services.daemon <stack folder>``.

Started by ``dataops up --stack services --detach`` with the components'
environment; runs until ``dataops down`` sends it SIGTERM.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from dataops.errors import DataOpsError
from dataops.local.services import stack
from dataops.local.services.config import ServicesConfig


def main(folder: str) -> int:
    config = ServicesConfig.load(Path(folder))
    stack.configure_supervisor_log(config, to_console=False)
    log = logging.getLogger("dataops.services")
    log.info("supervisor pid %d for %s", os.getpid(), config.folder)
    try:
        stack.run_foreground(config, dict(os.environ), on_ready=lambda running: None)
    except DataOpsError as exc:
        log.error("%s", exc)
        return 1
    log.info("supervisor stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
