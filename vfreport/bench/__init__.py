"""vfreport bench: speed and memory measurements against design.md section 11."""
