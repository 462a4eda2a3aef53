import sys, numpy as np, pickle
sys.path.insert(0, "/work/explore")
import grid
from grid import corpus, TRN, HELD, C, one, thr
from sklearn.metrics import roc_auc_score
import diag_lib
def links(sp, q):
    n = len(sp); A = np.zeros((n, n))
    sets = [set(s.frames.tolist()) for s in sp]
    for i in range(n):
        for j in range(i + 1, min(n, i + 6)):
            inter = len(sets[i] & sets[j])
            if inter == 0: continue
            a = inter / min(len(sets[i]), len(sets[j]))
            if a >= q: A[i, j] = A[j, i] = 1
    return A
orig = {u: {c: C[u][c]["x"].copy() for c in ("own", "oracle")} for u in C}
for q, hops in ((0.5, 1), (0.5, 2), (0.7, 2), (0.5, 4)):
    for u in C:
        for c in ("own", "oracle"):
            sp = C[u][c]["speakers"]; x = orig[u][c]
            if len(sp) < 2: continue
            A = links(sp, q); M = np.eye(len(sp))
            P = np.eye(len(sp))
            for _ in range(hops): P = P @ (A + np.eye(len(sp))); 
            P = (P > 0).astype(float)
            xs = P @ x; C[u][c]["x"] = xs / np.linalg.norm(xs, axis=1, keepdims=True)
    out = [f"q{q} h{hops}"]
    for c in ("oracle", "own"):
        out.append(f"{c} auc {diag_lib.auc(c):.3f}")
        for t in (0.3, 0.35, 0.4, 0.45):
            a, _ = corpus(TRN, c, thr(t, 3)); b, _ = corpus(HELD, c, thr(t, 3)); out.append(f"t{t}: {100*a:.1f}/{100*b:.1f}")
    print(" | ".join(out), flush=True)
