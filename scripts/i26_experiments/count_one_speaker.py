import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from hmm_two_speakers import *
from scipy.cluster.hierarchy import linkage
# build single-speaker real recordings from single-speaker reference stretches (>= 1 s)
def pieces(who):
    out = []
    for uri, c in list(CACHE.items()):
        if uri.startswith("only"): continue
        r = c["r"]; n = len(r.audio)
        t = np.arange(n) / 16000
        act = {}
        for s in r.reference:
            act.setdefault(s.speaker, np.zeros(n, bool))[int(s.start*16000):int(s.end*16000)] = True
        only = act[who] & ~np.any([v for k, v in act.items() if k != who], axis=0)
        e = np.flatnonzero(np.diff(np.r_[0, only.astype(np.int8), 0]))
        for a, b in zip(e[::2], e[1::2]):
            if b - a >= 16000: out.append(r.audio[a:b])
    return np.concatenate(out)
from vfreport.bench.pipeline_der import Recording
from vfreport.data.rttm import Segment
for who in ("MEE009", "MEE012"):
    a = pieces(who); uri = "only" + who; T = len(a) / 16000
    ws = P.window_seconds or 2.0; W = int(round(ws*16000)); H = max(G.hop, int(round(ws/2*16000/G.hop))*G.hop)
    probs, firsts = window_probabilities(P, a, W, H)
    n = G.num_frames(len(a))
    ref = [Segment(uri, 0.0, T, who)]
    CACHE[uri] = dict(r=Recording(uri, a, ref, [(0.0, T)]), n=n, probs=probs, firsts=firsts, sil=silero_probabilities(a),
                      oracle=np.ones(n, bool), regions=[(0.0, T)])
    print(uri, "%.1f s" % T)
for uri in CACHE:
    for cond in ("own", "oracle"):
        c = CACHE[uri]
        sp = c["oracle"] if cond == "oracle" else speech_mask(uri)
        speakers = local_speakers(c["probs"], c["firsts"], sp)
        x = emb(uri, speakers).astype(np.float64)
        dur = np.array([len(s.frames) for s in speakers]) * G.hop / 16000
        ok = dur >= 0.4
        z = linkage(x[ok], "average", metric="cosine")
        top = z[-1, 2]
        res = [fmt(run(uri, cond))] + [fmt(s) + " cos%.3f" % s["cos"] for s in (run_hmm(uri, cond, 5, 0.8), run_hmm(uri, cond, 20, 0.95))]
        print(uri, cond, "top merge %.3f" % top, " | ".join(res), flush=True)
