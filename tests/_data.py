"""The repository's test data (``tests/data/``): real AMI excerpts, see ``tests/data/README.md``."""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
AMI_DEBUG = DATA / "ami-debug"
AMI_DEBUG_TRAIN = DATA / "ami-debug-train"
AMI_DEBUG_TEST = DATA / "ami-debug-test"
