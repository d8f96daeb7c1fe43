"""The ci tests' helper modules (ci_project.py, ci_cases.py) are imported by name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
