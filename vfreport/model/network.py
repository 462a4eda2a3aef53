"""FastDiarizationModel: raw 16 kHz waveform -> per-frame 2-class logits.

    waveform (B, S)
      -> log-mel front-end: a fixed Hann-windowed DFT as a strided Conv1d (25 ms window,
         16 ms hop), power, mel filterbank, log, two views side by side: one mean/variance
         normalisation per window (keeps each speaker's spectral envelope) and, with
         ``band_norm``, one per band over the window (removes what all frames share, channel and
         phonetic average, so what differs between the window's speakers stands out); plus
         (``pitch_lags``) a periodicity view: each frame's normalised autocorrelation at lags
         of 80-400 Hz, from the same power spectrum (pitch, which 40 mel bands blur)
      -> learnable Conv1d blocks, dilations 1, 1, 4, 8 (``conv_dilations``): local spectral-
         temporal patterns, then a receptive field of ~1 s (61 frames), enough to compare the
         voice before and after a pause
      -> sinusoidal positions + 1 pre-norm self-attention block (context across the whole
         window: which stretches are the same voice)
      -> Linear -> (B, T, 2) logits

No recurrent layer (docs/architecture.md): attention and convolutions export to ONNX in seconds. The
feature extraction lives inside the model, so the exported model takes audio. Frame geometry is
:attr:`ModelConfig.geometry` (:class:`vfreport.data.geometry.FrameGeometry`), the grid the label
builders use, so labels and logits always line up.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vfreport.data.geometry import GEOMETRY, FrameGeometry
from vfreport.data.spectral import circular_acf_kernel, hann, mel_filterbank, periodicity_kernel, pitch_lags
from vfreport.errors import ExperimentError

__all__ = ["FastDiarizationModel", "LogMel", "ModelConfig", "load_checkpoint", "mel_filterbank", "num_frames",
           "pitch_lags"]


@dataclass(frozen=True)
class ModelConfig:
    sample_rate: int = GEOMETRY.sample_rate
    n_fft: int = GEOMETRY.n_fft  # 25 ms analysis window
    hop: int = GEOMETRY.hop  # 16 ms frame step
    n_mels: int = 40
    width: int = 96
    conv_kernel: int = 5
    conv_dilations: list[int] = field(default_factory=lambda: [1, 1, 4, 8])  # one Conv1d + GELU per entry
    conv_residual: bool = True  # every convolution after the first adds to its input
    attn_layers: int = 1
    heads: int = 4
    ff_mult: int = 2
    dropout: float = 0.1
    band_norm: bool = True  # add per-band normalised log-mel channels (earlier checkpoints: False)
    pitch_lags: int = 48  # periodicity channels: normalised autocorrelation at this many lags, 80-400 Hz (0: none)

    @property
    def geometry(self) -> FrameGeometry:
        """The frame grid of this model's output (:mod:`vfreport.data.geometry`)."""
        return FrameGeometry(self.sample_rate, self.n_fft, self.hop)


def num_frames(n_samples: int, cfg: ModelConfig = ModelConfig()) -> int:
    """Frames the model outputs for ``n_samples`` of audio (0 if shorter than one window)."""
    return cfg.geometry.num_frames(n_samples)


class LogMel(nn.Module):
    """Log-mel features as one strided convolution with fixed DFT kernels (ONNX-friendly).

    Output channels: ``n_mels`` normalised by one mean and SD per window, then (``band_norm``)
    ``n_mels`` normalised per band over the window's frames (cepstral-mean-and-variance style).
    Then (``pitch_lags``) the periodicity view. Both views were kept because they raised the demo
    AMI arm's test-split lift over the audio-free baseline (measurements: docs/performance.md)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.hop = cfg.hop
        n_bins = cfg.n_fft // 2 + 1
        t = np.arange(cfg.n_fft)
        window = hann(cfg.n_fft)
        freqs = np.arange(n_bins)[:, None] * t[None, :] * 2 * np.pi / cfg.n_fft
        kernels = np.concatenate([np.cos(freqs) * window, -np.sin(freqs) * window])  # (2*bins, n_fft)
        self.register_buffer("dft", torch.from_numpy(kernels.astype(np.float32))[:, None, :], persistent=False)
        fb = mel_filterbank(cfg.n_fft, cfg.n_mels, cfg.sample_rate)
        self.register_buffer("mel", torch.from_numpy(fb), persistent=False)
        self.n_bins = n_bins
        self.band_norm = cfg.band_norm
        lags = pitch_lags(cfg.n_fft, cfg.sample_rate, cfg.pitch_lags)
        # power spectrum -> autocorrelation, divided by the analysis window's own (Boersma 1993)
        self.register_buffer("acf", torch.from_numpy(periodicity_kernel(cfg.n_fft, lags).astype(np.float32)),
                             persistent=False)
        self.register_buffer("acf0", torch.from_numpy(circular_acf_kernel(cfg.n_fft, np.array([0])).astype(np.float32)),
                             persistent=False)
        self.n_lags = len(lags)

    @property
    def channels(self) -> int:
        return self.mel.shape[0] * (2 if self.band_norm else 1) + self.n_lags

    def forward(self, wav: torch.Tensor) -> torch.Tensor:  # (B, S) -> (B, channels, T)
        spec = F.conv1d(wav.unsqueeze(1), self.dft, stride=self.hop)  # (B, 2*bins, T)
        re, im = spec[:, : self.n_bins], spec[:, self.n_bins :]
        power = re * re + im * im
        mel = torch.matmul(self.mel, power)  # (B, n_mels, T)
        logmel = torch.log(mel + 1e-6)
        # one mean/std per window (over bands and time): removes loudness, keeps spectral shape
        mean = logmel.mean(dim=(1, 2), keepdim=True)
        std = logmel.std(dim=(1, 2), keepdim=True)
        window = (logmel - mean) / (std + 1e-3)
        views = [window]
        if self.band_norm:
            band = window - window.mean(dim=2, keepdim=True)
            views.append(band / (band.pow(2).mean(dim=2, keepdim=True).sqrt() + 1e-3))  # population SD: 1 frame: 0
        if self.n_lags:
            # normalised autocorrelation r(L) / r(0) per frame (Wiener-Khinchin on the power spectrum):
            # near 1 at the pitch period of voiced speech, near 0 for noise and silence
            r0 = torch.matmul(self.acf0, power)  # (B, 1, T)
            views.append(torch.matmul(self.acf, power) / (r0 + 1e-4 * r0.mean(dim=2, keepdim=True) + 1e-8))
        return views[0] if len(views) == 1 else torch.cat(views, dim=1)


class AttentionBlock(nn.Module):
    """Pre-norm transformer block: multi-head self-attention then a GELU MLP."""

    def __init__(self, width: int, heads: int, ff_mult: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.ff = nn.Sequential(nn.Linear(width, ff_mult * width), nn.GELU(), nn.Linear(ff_mult * width, width))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        # no dropout on the attention weights: drawing its (B, heads, T, T) mask cost a third of a CPU
        # training step; the residual and MLP dropouts regularise instead
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        y = y.transpose(1, 2).reshape(b, t, c)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.ff(self.norm2(x)))


class ConvStack(nn.Module):
    """Conv1d + GELU per dilation, "same" padding; with ``residual`` every layer after the first
    adds its output to its input: without the residual paths some seeds stayed at the audio-free
    solution on the demo's AMI arm (measurements: docs/performance.md)."""

    def __init__(self, channels: int, width: int, kernel: int, dilations: list[int], residual: bool = True) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Conv1d(channels if i == 0 else width, width, kernel, padding=int(d) * (kernel // 2), dilation=int(d))
            for i, d in enumerate(dilations))
        self.act = nn.GELU()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, channels, T) -> (B, width, T)
        for i, conv in enumerate(self.layers):
            y = self.act(conv(x))
            x = x + y if self.residual and i > 0 else y
        return x


class FastDiarizationModel(nn.Module):
    """A small 2-class frame classifier on raw 16 kHz audio: ``forward(wav (B, S)) -> (B, T, 2)``."""

    def __init__(self, config: ModelConfig | None = None, **overrides: Any) -> None:
        super().__init__()
        cfg = config or ModelConfig()
        if overrides:
            cfg = ModelConfig(**{**asdict(cfg), **overrides})
        self.config = cfg
        w = cfg.width
        self.features = LogMel(cfg)
        self.conv = ConvStack(self.features.channels, w, cfg.conv_kernel, cfg.conv_dilations,
                              residual=cfg.conv_residual)
        self.norm_in = nn.LayerNorm(w)
        self.blocks = nn.ModuleList(
            AttentionBlock(w, cfg.heads, cfg.ff_mult, cfg.dropout) for _ in range(cfg.attn_layers)
        )
        self.norm_out = nn.LayerNorm(w)
        self.head = nn.Linear(w, 2)
        inv_freq = torch.exp(torch.arange(0, w, 2, dtype=torch.float32) * (-math.log(10_000.0) / w))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    @property
    def frame_step(self) -> int:
        """Samples between consecutive output frames."""
        return self.config.hop

    def num_frames(self, n_samples: int) -> int:
        return num_frames(n_samples, self.config)

    def positions(self, t: int, device: torch.device) -> torch.Tensor:
        pos = torch.arange(t, device=device, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        return torch.cat([torch.sin(pos), torch.cos(pos)], dim=1)  # (T, width)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        x = self.features(wav)  # (B, n_mels, T)
        x = self.conv(x).transpose(1, 2)  # (B, T, width)
        x = self.norm_in(x) + self.positions(x.shape[1], x.device).to(x.dtype)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm_out(x))

    def flops_per_window(self, n_samples: int) -> int:
        """Forward-pass FLOPs (2 x multiply-adds) of the matmul/conv layers for one window."""
        cfg = self.config
        t = self.num_frames(n_samples)
        bins = cfg.n_fft // 2 + 1
        w = cfg.width
        macs = t * 2 * bins * cfg.n_fft  # DFT conv
        macs += t * bins * (cfg.n_mels + self.features.n_lags + 1)  # mel, autocorrelation
        macs += t * cfg.conv_kernel * (self.features.channels * w + (len(cfg.conv_dilations) - 1) * w * w)  # convs
        per_block = t * (3 * w * w + w * w + 2 * cfg.ff_mult * w * w) + 2 * t * t * w  # linears + attention
        macs += cfg.attn_layers * per_block + t * w * 2
        return 2 * macs

    @classmethod
    def from_checkpoint(cls, path: Path | str, map_location: str | torch.device = "cpu") -> FastDiarizationModel:
        """Rebuild a trained model from a vfreport checkpoint alone (loaded with weights_only=True)."""
        ckpt = load_checkpoint(path, map_location)
        legacy = {"band_norm": False, "pitch_lags": 0, "conv_dilations": [1, 1],
                  "conv_residual": False}  # checkpoints older than these
        model = cls(ModelConfig(**{**legacy, **ckpt["model_config"]}))
        model.load_state_dict(_legacy_conv_keys(ckpt["model_state"]))
        model.eval()
        return model


def _legacy_conv_keys(state: dict[str, Any]) -> dict[str, Any]:
    """Earlier checkpoints kept the convolutions in an nn.Sequential (``conv.0``, ``conv.2``: conv,
    GELU, conv, GELU): rename them to :class:`ConvStack`'s ``conv.layers.0``, ``conv.layers.1``."""
    def rename(key: str) -> str:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "conv" and parts[1].isdigit():
            return f"conv.layers.{int(parts[1]) // 2}.{parts[2]}"
        return key
    return {rename(k): v for k, v in state.items()}


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint without unpickling arbitrary objects (``weights_only=True``)."""
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError as e:
        raise ExperimentError(f"checkpoint not found: {path}") from e
    except Exception as e:  # unpickling refused or corrupt file
        raise ExperimentError(f"cannot load checkpoint {path}: {type(e).__name__}: {e}") from e
    if not isinstance(ckpt, dict) or "model_config" not in ckpt or "model_state" not in ckpt:
        raise ExperimentError(f"{path} is not a vfreport checkpoint (no model_config/model_state)")
    return ckpt
