"""The frame grid shared by labels, windows, the model and predict (torch-free).

The model's front-end is a strided analysis window: ``n_fft`` samples per frame, one frame every
``hop`` samples. Labels are built on the same grid, so labels and logits always line up; the data
layer learns the grid here instead of importing the model (and torch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class FrameGeometry:
    """``sample_rate`` Hz audio, analysis windows of ``n_fft`` samples every ``hop`` samples."""

    sample_rate: int = SAMPLE_RATE
    n_fft: int = 400  # 25 ms analysis window
    hop: int = 256  # 16 ms frame step

    def num_frames(self, n_samples: int) -> int:
        """Frames in ``n_samples`` of audio (0 if shorter than one analysis window)."""
        if n_samples < self.n_fft:
            return 0
        return 1 + (n_samples - self.n_fft) // self.hop

    def frame_centers(self, n_frames: int) -> np.ndarray:
        """Centre time (seconds, from the window start) of each frame."""
        return (np.arange(n_frames) * self.hop + self.n_fft / 2) / self.sample_rate


GEOMETRY = FrameGeometry()
