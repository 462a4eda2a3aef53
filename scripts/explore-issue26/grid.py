import pickle, sys, itertools
import numpy as np
from vfreport.deploy.cluster import ClusterSettings, cluster_embeddings, centroids, nearest
from vfreport.deploy.predict import vote, frames_to_segments
from vfreport.deploy.scoring import score, crop_to_regions, speech_regions, rttm_round_trip
D = pickle.load(open(sys.argv[1], "rb")); sr, step, nfft = D["geometry"]; C = D["cache"]
TRN = [u for u in C if u.startswith("trn")]; HELD = [u for u in C if not u.startswith("trn")]

def run(u, cond, cluster_fn, min_embed=0.4):
    d = C[u]; c = d[cond]; sp = c["speakers"]; x = c["x"]
    if len(sp) < 2:
        lab = np.where(c["speech"], 0, -1)  # approx
        # use vote with single cluster
        cl = np.zeros(len(sp), int)
    else:
        mf = int(round(min_embed * sr / step))
        le = np.array([len(s.frames) >= mf for s in sp])
        if le.sum() < 2: le[:] = True
        cl = np.zeros(len(sp), int)
        cl[le] = cluster_fn(x[le], u, cond, [s for s, k in zip(sp, le) if k])
        if not le.all():
            m = centroids(x[le], cl[le], cl.max() + 1, "cosine"); cl[~le] = nearest(x[~le], m, "cosine")
    labels = vote(sp, cl, d["n_frames"]) if len(sp) else np.full(d["n_frames"], -1)
    seg = frames_to_segments(labels, d["n"], u, sr, step, nfft, 0.1)
    if cond == "oracle": seg = crop_to_regions(seg, speech_regions(d["reference"]))
    _, back = rttm_round_trip(seg)
    s = score(d["reference"], back, d["uem"], u)
    s["k"] = len({b.speaker for b in back}); return s

def corpus(uris, cond, fn):
    rs = {u: run(u, cond, fn) for u in uris}
    return sum(r["error"] for r in rs.values()) / sum(r["total"] for r in rs.values()), rs

def thr(t, m):
    return lambda x, *a: cluster_embeddings(x, ClusterSettings(threshold=t, min_cluster_size=m, metric="cosine"))
one = lambda x, *a: np.zeros(len(x), int)
if __name__ == "__main__":
    for cond in ("own", "oracle"):
        base_t, _ = corpus(TRN, cond, one); base_h, _ = corpus(HELD, cond, one)
        print(cond, f"one-speaker trn {100*base_t:.1f} held {100*base_h:.1f}")
        for t, m in itertools.product([0.25, 0.3, 0.35, 0.4, 0.45, 0.5], [1, 2, 3, 5]):
            a, ra = corpus(TRN, cond, thr(t, m)); b, rb = corpus(HELD, cond, thr(t, m))
            print(cond, t, m, f"trn {100*a:.1f} held {100*b:.1f}", " ".join(f"{u}:{100*r['der']:.0f}({r['k']})" for u, r in {**ra, **rb}.items()))
