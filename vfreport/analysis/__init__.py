"""Per-run metrics, hypotheses, verdicts, the common-yardstick evaluation, results.json assembly."""
