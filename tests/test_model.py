import numpy as np
import pytest
import torch

from vfreport.data.geometry import GEOMETRY
from vfreport.model.network import FastDiarizationModel, ModelConfig, mel_filterbank, num_frames

frame_centers = GEOMETRY.frame_centers


@pytest.mark.parametrize("samples", [400, 16000, 32000, 40321])
def test_output_shape_matches_frame_geometry(samples):
    model = FastDiarizationModel().eval()
    with torch.no_grad():
        out = model(torch.randn(3, samples))
    assert out.shape == (3, num_frames(samples), 2)


def test_frame_geometry():
    assert num_frames(399) == 0
    assert num_frames(32000) == 1 + (32000 - 400) // 256
    c = frame_centers(3)
    np.testing.assert_allclose(c, [200 / 16000, 456 / 16000, 712 / 16000])


def test_context_reaches_across_the_window():
    """Changing the first 0.1 s of audio changes the logits of the last frame (global context)."""
    torch.manual_seed(0)
    model = FastDiarizationModel().eval()
    x = torch.randn(1, 32000)
    y = x.clone()
    y[:, :1600] = torch.randn(1, 1600)
    with torch.no_grad():
        a, b = model(x), model(y)
    assert (a[0, -1] - b[0, -1]).abs().max() > 1e-4


def test_no_recurrent_layers():
    model = FastDiarizationModel()
    assert not any(isinstance(m, torch.nn.RNNBase) for m in model.modules())


def test_mel_filterbank_is_normalised_triangles():
    fb = mel_filterbank(400, 40, 16000)
    assert fb.shape == (40, 201)
    assert (fb >= 0).all() and (fb.max(axis=1) > 0.5).all()


def test_flops_are_positive_and_grow_with_length():
    m = FastDiarizationModel(ModelConfig(width=32))
    assert 0 < m.flops_per_window(16000) < m.flops_per_window(32000)


def test_checkpoints_from_before_the_new_views_still_load(tmp_path):
    """An earlier checkpoint's model_config lacks the keys of the new layers: it loads as
    the model it was (one log-mel view, two plain convolutions), with the same outputs."""
    from dataclasses import asdict

    torch.manual_seed(0)
    new_keys = ("band_norm", "pitch_lags", "conv_dilations", "conv_residual")
    old = FastDiarizationModel(band_norm=False, pitch_lags=0, conv_dilations=[1, 1], conv_residual=False,
                               attn_layers=2).eval()
    config = {k: v for k, v in asdict(old.config).items() if k not in new_keys}
    legacy_state = {k.replace("conv.layers.1.", "conv.2.").replace("conv.layers.0.", "conv.0."): v
                    for k, v in old.state_dict().items()}  # earlier versions kept them in an nn.Sequential
    assert "conv.2.weight" in legacy_state
    torch.save({"model_config": config, "model_state": legacy_state}, tmp_path / "old.pt")
    loaded = FastDiarizationModel.from_checkpoint(tmp_path / "old.pt")
    wav = torch.randn(1, 16000) * 0.1
    with torch.no_grad():
        assert torch.equal(loaded(wav), old(wav))
    assert loaded.features.channels == 40 and len(loaded.conv.layers) == 2 and not loaded.conv.residual


def test_periodicity_view_finds_the_pitch():
    from vfreport.model.network import LogMel, pitch_lags

    features = LogMel(ModelConfig())
    lags = pitch_lags(400, 16000, ModelConfig().pitch_lags)
    t = np.arange(32000) / 16000
    for f0 in (110.0, 180.0, 250.0):
        buzz = np.sign(np.sin(2 * np.pi * f0 * t)).astype(np.float32) * 0.1
        with torch.no_grad():
            acf = features(torch.from_numpy(buzz)[None])[0, -len(lags):, 60].numpy()
        period = np.abs(lags - 16000 / f0).argmin()
        assert acf[period] > 0.6  # near 1 at the period (and its multiples, as any autocorrelation)
        multiple = lags[acf.argmax()] * f0 / 16000
        assert multiple == pytest.approx(round(multiple), abs=0.08)
    noise = np.random.default_rng(0).normal(0, 0.1, 32000).astype(np.float32)
    with torch.no_grad():
        assert features(torch.from_numpy(noise)[None])[0, -len(lags):].max() < 0.4
