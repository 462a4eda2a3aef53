"""Which property of predict's local speakers costs the separability? (oracle speech condition)"""
import sys, pickle, numpy as np, soundfile as sf
from sklearn.metrics import roc_auc_score
from vfreport.data.geometry import GEOMETRY as G
from vfreport.deploy.embed import encoder_embeddings, LocalSpeaker
D = pickle.load(open(sys.argv[1], "rb")); C = D["cache"]
def activity(u, n_frames):
    ref = C[u]["reference"]; spk = sorted({s.speaker for s in ref})
    t = (np.arange(n_frames) * G.hop + G.n_fft / 2) / 16000
    return np.stack([np.any([(t >= s.start) & (t < s.start + s.duration) for s in ref if s.speaker == k], axis=0) for k in spk])
res = {}
for cond in ("oracle", "own"):
  for variant in ("as is", "no overlap", "purified", "purified+no overlap", "len>=1s"):
    S, L = [], []
    for u in C:
        d = C[u]; sp = d[cond]["speakers"]; n = d["n_frames"]
        if len(sp) < 2: continue
        act = activity(u, n); solo = act.sum(0) == 1
        maj = np.array([act[:, s.frames].sum(1).argmax() if act[:, s.frames].sum() else -1 for s in sp])
        keep = []
        for s, m in zip(sp, maj):
            f = s.frames
            if "no overlap" in variant: f = f[solo[f]]
            if "purified" in variant and m >= 0: f = f[act[m, f]]
            if variant == "len>=1s" and len(f) < 62: f = f[:0]
            keep.append(f)
        idx = [i for i, f in enumerate(keep) if len(f) >= 8 and maj[i] >= 0]
        if len({maj[i] for i in idx}) < 2: continue
        wav, _ = sf.read(f"/work/ami-more/audio/{u}.wav", dtype="float32")
        X = encoder_embeddings(wav, [LocalSpeaker(keep[i], np.ones(len(keep[i]))) for i in idx], G, n)
        y = maj[idx]; iu = np.triu_indices(len(y), 1)
        S.append((X @ X.T)[iu]); L.append(y[iu[0]] == y[iu[1]])
    print(cond, variant, round(roc_auc_score(np.concatenate(L), np.concatenate(S)), 3), flush=True)
