"""The repository's test data (``tests/data/``): real AMI excerpts, see ``tests/data/README.md``."""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
AMI_DEBUG = DATA / "ami-debug"
