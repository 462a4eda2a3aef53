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
