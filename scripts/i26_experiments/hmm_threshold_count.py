import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from hmm_two_speakers import *
def run2(uri, cond, thr, kappa, p, iters=5, onset=0.25, mcs=3):
    c = CACHE[uri]; r = c["r"]; n = c["n"]
    sp = c["oracle"] if cond == "oracle" else speech_mask(uri, onset)
    speakers = local_speakers(c["probs"], c["firsts"], sp)
    order = np.argsort([s.frames.mean() for s in speakers], kind="stable")
    speakers = [speakers[i] for i in order]
    x = emb(uri, speakers).astype(np.float64)
    dur = np.array([len(s.frames) for s in speakers]) * G.hop / 16000
    ok = dur >= 0.4
    cl = np.zeros(len(x), np.int64)
    cl[ok] = cluster_embeddings(x[ok], ClusterSettings(thr, None, 1, None, mcs, "cosine"))
    K = int(cl.max()) + 1
    mu = centroids(x[ok], cl[ok], K, "cosine")
    for _ in range(iters):
        g = fb(kappa * dur[:, None] * (x @ mu.T), p)
        mu = g.T @ (x * dur[:, None]); mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    labels = vote(speakers, g.argmax(1), n)
    seg = frames_to_segments(labels, len(r.audio), uri, 16000, G.hop, G.n_fft, MIN_SEGMENT_SECONDS)
    if cond == "oracle": seg = crop_to_regions(seg, c["regions"])
    s = score(r.reference, seg, r.uem, uri); s["k"] = len({q.speaker for q in seg}); return s
for thr in (0.25, 0.3, 0.35):
  for kappa, p in ((5, 0.8), (5, 0.9), (10, 0.9), (20, 0.95)):
    row = [fmt(run2(uri, cond, thr, kappa, p)) for cond in ("own", "oracle") for uri in CACHE]
    print(thr, kappa, p, " | ".join(row), flush=True)
