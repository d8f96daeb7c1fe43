"""Headless Chromium from Debian's package, driven by Playwright.

Playwright must not download a browser of its own (``playwright install``):
it drives ``/usr/bin/chromium``, which ``ensure_chromium()`` installs with
apt-get when it is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Test workers side by side may each find chromium missing: one installs it while the others wait.
_INSTALL_LOCK = Path(tempfile.gettempdir()) / "dataops-tests-chromium.lock"
# apt-get waits this long for the dpkg lock (another apt-get of the machine) instead of failing at once.
_APT_LOCK_WAIT = ["-o", "DPkg::Lock::Timeout=600"]


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt-get if missing; raises with apt's output on failure."""
    import fcntl

    if CHROMIUM.is_file():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"{CHROMIUM} is missing and apt-get is not available to install Debian's chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(_INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if CHROMIUM.is_file():  # installed by another worker meanwhile
            return CHROMIUM
        for argv in (["apt-get", *_APT_LOCK_WAIT, "update", "-qq"],
                     ["apt-get", *_APT_LOCK_WAIT, "install", "-y", "-qq", "chromium"]):
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
            if result.returncode != 0:
                raise RuntimeError(
                    f"`{' '.join(argv)}` failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
                )
    if not CHROMIUM.is_file():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM
