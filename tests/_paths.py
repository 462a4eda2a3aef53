"""Where the shared test data lives: ``shared/`` beside the repository (as in CI), or $VFREPORT_SHARED."""

import os
from pathlib import Path

SHARED = Path(os.environ.get("VFREPORT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
AMI_DEBUG = SHARED / "fixtures" / "ami-debug"
