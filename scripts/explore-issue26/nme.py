import sys, numpy as np
sys.path.insert(0, "/work/explore")
from grid import corpus, TRN, HELD, one, thr
from scipy.linalg import eigh
from scipy.cluster.vq import kmeans2

def nme_sc(x, max_k=6, pmax_frac=0.5, min_k=1):
    n = len(x)
    if n < 3: return np.zeros(n, int)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    A = xn @ xn.T
    best = None
    for p in range(1, max(2, int(n * pmax_frac))):
        B = np.zeros_like(A)
        idx = np.argsort(-A, axis=1)[:, :p+1]  # incl self
        np.put_along_axis(B, idx, 1.0, axis=1)
        B = (B + B.T) / 2
        L = np.diag(B.sum(1)) - B
        lam = eigh(L, eigvals_only=True)
        K = min(max_k, n - 1)
        gaps = np.diff(lam[: K + 1])
        g = gaps.max() / (lam[-1] + 1e-10)
        r = p / g
        if best is None or r < best[0]:
            best = (r, p, B, int(np.argmax(gaps[min_k - 1:]) + min_k))
    _, p, B, k = best
    if k == 1: return np.zeros(n, int)
    L = np.diag(B.sum(1)) - B
    lam, vec = eigh(L)
    emb = vec[:, :k]
    rng = np.random.default_rng(0)
    best_lab, best_in = None, np.inf
    for _ in range(10):
        c, lab = kmeans2(emb, k, minit="++", seed=rng)
        inertia = ((emb - c[lab]) ** 2).sum()
        if inertia < best_in: best_in, best_lab = inertia, lab
    return best_lab

for cond in ("own", "oracle"):
    for name, fn in [("one", one), ("ahc.4", thr(0.4, 1)), ("nme", lambda x, *a: nme_sc(x)),
                     ("nme.25", lambda x, *a: nme_sc(x, pmax_frac=0.25))]:
        a, ra = corpus(TRN, cond, fn); b, rb = corpus(HELD, cond, fn)
        print(cond, name, f"trn {100*a:.1f} held {100*b:.1f}", " ".join(f"{u}:{100*r['der']:.0f}({r['k']})" for u, r in {**ra, **rb}.items()), flush=True)
