import numpy as np
from sklearn.metrics import roc_auc_score
from grid import C, sr, step
def majority(u, cond):
    d = C[u]; ref = d["reference"]; spk = sorted({s.speaker for s in ref}); out = []
    for s in d[cond]["speakers"]:
        t = (s.frames * step + 200) / sr
        counts = [sum(((t >= r.start) & (t < r.start + r.duration)).sum() for r in ref if r.speaker == k) for k in spk]
        out.append(int(np.argmax(counts)) if max(counts) > 0 else -1)
    return np.array(out)
def auc(cond):
    S, L = [], []
    for u in C:
        y = majority(u, cond); x = C[u][cond]["x"]
        if len(set(y[y >= 0])) < 2: continue
        iu = np.triu_indices(len(y), 1); ok = (y[iu[0]] >= 0) & (y[iu[1]] >= 0)
        S.append((x @ x.T)[iu][ok]); L.append((y[iu[0]] == y[iu[1]])[ok])
    return roc_auc_score(np.concatenate(L), np.concatenate(S))
