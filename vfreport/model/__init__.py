"""FastDiarizationModel and its training loop with checkpoints."""
