import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from harness import *
from scipy.special import logsumexp
def fb(E, p):
    n, K = E.shape
    lt = np.log(np.full((K, K), (1 - p) / max(K - 1, 1))); np.fill_diagonal(lt, np.log(p)) if K > 1 else None
    if K == 1: return np.ones((n, 1))
    a = np.zeros((n, K)); b = np.zeros((n, K))
    a[0] = E[0] - np.log(K)
    for i in range(1, n): a[i] = E[i] + logsumexp(a[i-1][:, None] + lt, axis=0)
    for i in range(n-2, -1, -1): b[i] = logsumexp(lt + (E[i+1] + b[i+1])[None], axis=1)
    g = a + b; g -= logsumexp(g, axis=1, keepdims=True); return np.exp(g)

def run_hmm(uri, cond, kappa, p, K=2, iters=5, onset=0.25):
    c = CACHE[uri]; r = c["r"]; n = c["n"]
    sp = c["oracle"] if cond == "oracle" else speech_mask(uri, onset)
    speakers = local_speakers(c["probs"], c["firsts"], sp)
    order = np.argsort([s.frames.mean() for s in speakers], kind="stable")
    speakers = [speakers[i] for i in order]
    x = emb(uri, speakers).astype(np.float64)
    dur = np.array([len(s.frames) for s in speakers]) * G.hop / 16000
    ok = dur >= 0.4
    cl = np.zeros(len(x), np.int64)
    cl[ok] = cluster_embeddings(x[ok], ClusterSettings(None, K, 1, None, 1, "cosine"))
    mu = centroids(x[ok], cl[ok], K, "cosine")
    for _ in range(iters):
        E = kappa * dur[:, None] * (x @ mu.T)
        g = fb(E, p)
        mu = g.T @ (x * dur[:, None]); mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    lab = g.argmax(1)
    labels = vote(speakers, lab, n)
    seg = frames_to_segments(labels, len(r.audio), uri, 16000, G.hop, G.n_fft, MIN_SEGMENT_SECONDS)
    if cond == "oracle": seg = crop_to_regions(seg, c["regions"])
    s = score(r.reference, seg, r.uem, uri); s["k"] = len({q.speaker for q in seg}); s["cos"] = float(mu[0] @ mu[1]); return s
if __name__ == "__main__":
    for kappa in (5, 10, 20, 40, 80):
        for p in (0.5, 0.8, 0.9, 0.95, 0.98):
            row = []
            for cond in ("own", "oracle"):
                for uri in CACHE:
                    s = run_hmm(uri, cond, kappa, p); row.append(fmt(s) + " cos%.2f" % s["cos"])
            print(kappa, p, " | ".join(row), flush=True)
