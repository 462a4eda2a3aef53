import sys, numpy as np
sys.path.insert(0, "/work/explore")
from grid import corpus, TRN, HELD, C, sr, step, one, run
from vfreport.deploy.cluster import ClusterSettings, cluster_embeddings
from sklearn.metrics import roc_auc_score
def majority(u, cond):
    d = C[u]; ref = d["reference"]; spk = sorted({s.speaker for s in ref}); out = []
    for s in d[cond]["speakers"]:
        t = (s.frames * step + 200) / sr
        counts = [sum(((t >= r.start) & (t < r.end)).sum() for r in ref if r.speaker == k) for k in spk]
        out.append(int(np.argmax(counts)) if max(counts) > 0 else -1)
    return np.array(out)
for cond in ("oracle", "own"):
  aucs = []; allsim = []; alllab = []
  for u in C:
    y = majority(u, cond); x = C[u][cond]["x"]
    if len(set(y[y >= 0])) < 2: continue
    xn = x / np.linalg.norm(x, axis=1, keepdims=True); S = xn @ xn.T
    iu = np.triu_indices(len(y), 1); ok = (y[iu[0]] >= 0) & (y[iu[1]] >= 0)
    same = (y[iu[0]] == y[iu[1]])[ok]; sim = S[iu][ok]
    a = roc_auc_score(same, sim); aucs.append((u, round(a, 2), len(set(y[y>=0]))))
    allsim.append(sim); alllab.append(same)
  print(cond, aucs, "pooled", round(roc_auc_score(np.concatenate(alllab), np.concatenate(allsim)), 3))
  kfn = lambda x, u, c, sp: cluster_embeddings(x, ClusterSettings(num_speakers=len({s.speaker for s in C[u]["reference"]}), metric="cosine"))
  a, ra = corpus(TRN, cond, kfn); b, rb = corpus(HELD, cond, kfn)
  print(cond, "known-k", f"trn {100*a:.1f} held {100*b:.1f}", " ".join(f"{u}:{100*r['der']:.0f}({r['k']})" for u, r in {**ra, **rb}.items()))
