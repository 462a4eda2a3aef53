import sys, numpy as np, pickle
sys.path.insert(0, "/work/explore")
import grid as G
from grid import TRN, HELD, C, thr, corpus, one
import diag_lib
from sklearn.metrics import roc_auc_score
def labelled(uris, cond):
    X, Y, R = [], [], []
    for u in uris:
        y = diag_lib.majority(u, cond); x = C[u][cond]["x"]
        spk = sorted({s.speaker for s in C[u]["reference"]})
        for xi, yi in zip(x, y):
            if yi >= 0: X.append(xi); Y.append(u + ":" + spk[yi]); R.append(u)
    return np.array(X), np.array(Y), np.array(R)
def auc_on(uris, cond, T):
    S, L = [], []
    for u in uris:
        y = diag_lib.majority(u, cond); x = C[u][cond]["x"] @ T
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        ok = y >= 0
        if len(set(y[ok])) < 2: continue
        x, y = x[ok], y[ok]; iu = np.triu_indices(len(y), 1)
        S.append((x @ x.T)[iu]); L.append(y[iu[0]] == y[iu[1]])
    return roc_auc_score(np.concatenate(L), np.concatenate(S))
orig = {u: {c: C[u][c]["x"].copy() for c in ("own", "oracle")} for u in C}
X, Y, R = labelled(TRN, "oracle")
# speaker names across recordings: AMI speaker ids are global (MEE068 etc), use them
Yg = np.array([y.split(":")[1] for y in Y])
mu = X.mean(0)
for method in ("none", "wccn", "lda"):
    for reg in ((0.1, 0.3, 1.0) if method != "none" else (0,)):
        if method == "none": T = np.eye(X.shape[1])
        else:
            Xc = X - mu
            Sw = np.zeros((X.shape[1],) * 2)
            for s in set(Yg):
                d = X[Yg == s] - X[Yg == s].mean(0); Sw += d.T @ d
            Sw /= len(X); Sw = (1 - reg) * Sw + reg * np.trace(Sw) / len(Sw) * np.eye(len(Sw))
            if method == "wccn":
                w, V = np.linalg.eigh(Sw); T = V @ np.diag(w ** -0.5) @ V.T
            else:
                Sb = np.zeros_like(Sw)
                for s in set(Yg):
                    m = X[Yg == s].mean(0) - mu; Sb += (Yg == s).sum() * np.outer(m, m)
                Sb /= len(X)
                from scipy.linalg import eigh
                w, V = eigh(Sb, Sw); T = V[:, ::-1][:, :14]
        a_tr = auc_on(TRN, "oracle", T); a_h = auc_on(HELD, "oracle", T); a_ho = auc_on(HELD, "own", T)
        for u in C:
            for c in ("own", "oracle"):
                x = orig[u][c] @ T; C[u][c]["x"] = x / np.linalg.norm(x, axis=1, keepdims=True)
        res = []
        for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            a, _ = corpus(TRN, "oracle", thr(t, 3)); b, _ = corpus(HELD, "oracle", thr(t, 3)); res.append(f"{t}:{100*a:.0f}/{100*b:.0f}")
        print(method, reg, f"AUC trn {a_tr:.3f} held {a_h:.3f} held-own {a_ho:.3f}", " ".join(res), flush=True)
        for u in C:
            for c in ("own", "oracle"): C[u][c]["x"] = orig[u][c]
