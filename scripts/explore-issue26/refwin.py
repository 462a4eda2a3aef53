import numpy as np, soundfile as sf
from sklearn.metrics import roc_auc_score
from vfreport.data.rttm import parse_rttm
from vfreport.data.geometry import GEOMETRY as G
from vfreport.deploy.embed import encoder_embeddings, LocalSpeaker
ref = parse_rttm(open("/work/ami-more/all.rttm").read())
for W in (2.0, 4.0, 8.0):
  S_, L_ = [], []
  for u, segs in ref.items():
    wav, sr = sf.read(f"/work/ami-more/audio/{u}.wav", dtype="float32")
    n_frames = 1 + (len(wav) - G.n_fft) // G.hop
    t = (np.arange(n_frames) * G.hop + G.n_fft / 2) / sr
    spk = sorted({s.speaker for s in segs})
    act = np.stack([np.any([(t >= s.start) & (t < s.end) for s in segs if s.speaker == k], axis=0) for k in spk])
    solo = act.sum(0) == 1
    sp, y = [], []
    for w0 in np.arange(0, 30 - W + 1e-6, W / 2):
        inw = (t >= w0) & (t < w0 + W)
        for i, k in enumerate(spk):
            f = np.flatnonzero(inw & solo & act[i])
            if len(f) >= 25: sp.append(LocalSpeaker(f, np.ones(len(f)))); y.append(i)
    y = np.array(y)
    if len(set(y)) < 2: continue
    X = encoder_embeddings(wav, sp, G, n_frames)
    iu = np.triu_indices(len(y), 1); same = y[iu[0]] == y[iu[1]]; sim = (X @ X.T)[iu]
    S_.append(sim); L_.append(same)
  print(W, "pooled", round(roc_auc_score(np.concatenate(L_), np.concatenate(S_)), 3))
