"""vfreport bench: speed and memory measurements against docs/performance.md."""
