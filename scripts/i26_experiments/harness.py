"""Shared harness of issue 26's experiments (docs/pipeline.md, "Issue 26's goal"): caches the model's
window probabilities and Silero's probabilities of dev00/dev01, and runs variants of predict's clustering.
MODEL=path/to/model.onnx (default: the demo's, /work/demo-base/model.onnx); WIN=window seconds."""
import numpy as np, pickle, os, functools
from vfreport.bench.pipeline_der import open_recordings, default_data
from vfreport.deploy.predict import (load_predictor, window_probabilities, local_speakers, vote, frames_to_segments,
    align_windows, MIN_SEGMENT_SECONDS)
from vfreport.deploy.embed import LocalSpeaker, encoder_embeddings
from vfreport.deploy.cluster import ClusterSettings, cluster_embeddings, centroids, nearest
from vfreport.deploy.speech import SpeechSettings, silero_probabilities, regions_from_probabilities, regions_to_frames
from vfreport.deploy.scoring import Meeting, reference_speech, speech_regions, crop_to_regions, score
P = load_predictor(os.environ.get("MODEL", "/work/demo-base/model.onnx"))
G = P.geometry
RECS = open_recordings(default_data())
CACHE = {}
for r in RECS:
    n = G.num_frames(len(r.audio))
    ws = float(os.environ.get("WIN", P.window_seconds or 2.0)); W = int(round(ws*16000)); H = max(G.hop, int(round(ws/2*16000/G.hop))*G.hop)
    probs, firsts = window_probabilities(P, r.audio, W, H)
    CACHE[r.uri] = dict(r=r, n=n, probs=probs, firsts=firsts, sil=silero_probabilities(r.audio),
        oracle=reference_speech(Meeting(r.uri, r.audio, tuple(r.reference), tuple(r.uem)), G), regions=speech_regions(r.reference))

def speech_mask(uri, onset=0.25, **kw):
    kw.setdefault("pad", 0.03)  # the detector's padding when these experiments ran (docs/pipeline.md)
    c = CACHE[uri]
    s = SpeechSettings(onset=onset, **kw)
    return regions_to_frames(regions_from_probabilities(c["sil"], len(c["r"].audio), s), c["n"], G)

EMB = {}
def emb(uri, speakers):
    key = (uri, tuple((int(s.frames[0]), int(s.frames[-1]), len(s.frames)) for s in speakers))
    if key not in EMB:
        EMB[key] = encoder_embeddings(CACHE[uri]["r"].audio, speakers, G, CACHE[uri]["n"])
    return EMB[key]

def link(speakers, firsts_of, min_share=0.5):
    """union-find: link local speakers of consecutive windows whose frames agree on the shared part."""
    parent = list(range(len(speakers)))
    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]; i = parent[i]
        return i
    by_w = {}
    for i, w in enumerate(firsts_of):
        by_w.setdefault(w, []).append(i)
    ws = sorted(by_w)
    for w0, w1 in zip(ws, ws[1:]):
        A, B = by_w[w0], by_w[w1]
        for a in A:
            best, bs = None, 0
            for b in B:
                inter = len(np.intersect1d(speakers[a].frames, speakers[b].frames, assume_unique=True))
                sa = np.sum(speakers[a].frames >= speakers[b].frames[0] - 0)  # approx
                if inter > bs: best, bs = b, inter
            if best is None: continue
            # shares relative to each side's frames in the other window's span
            b = best
            lo, hi = max(speakers[a].frames[0], speakers[b].frames[0]), min(speakers[a].frames[-1], speakers[b].frames[-1])
            na = np.sum((speakers[a].frames >= lo) & (speakers[a].frames <= hi)); nb = np.sum((speakers[b].frames >= lo) & (speakers[b].frames <= hi))
            if bs >= min_share * max(na, nb):
                parent[find(a)] = find(b)
    return np.array([find(i) for i in range(len(speakers))])

def run(uri, cond="own", onset=0.25, thr=0.35, mcs=3, min_embed=0.4, mode="base", max_len=None, min_share=0.5,
        nspk=None, reseg=False, ret_x=False, **kw):
    c = CACHE[uri]; r = c["r"]; n = c["n"]
    kw2 = {k: v for k, v in kw.items() if k != 'center'}
    sp = c["oracle"] if cond == "oracle" else speech_mask(uri, onset, **kw2)
    speakers = local_speakers(c["probs"], c["firsts"], sp)
    win = []
    for p, f in zip(c["probs"], c["firsts"]):
        loc = p.argmax(1)
        for k in (0, 1):
            if ((loc == k) & sp[f:f+len(p)]).sum() >= 8: win.append(f)
    step_s = G.hop / G.sample_rate
    if len(speakers) < 2:
        labels = np.where(sp, align_windows(c["probs"], c["firsts"], n)[0].argmax(1), -1)
    else:
        if mode == "base":
            units = [[i] for i in range(len(speakers))]
        else:
            comp = link(speakers, win, min_share)
            units = [list(np.flatnonzero(comp == u)) for u in np.unique(comp)]
            if max_len:
                out = []
                for u in units:
                    for a in range(0, len(u), max_len): out.append(u[a:a+max_len])
                units = out
        uspk = []
        for u in units:
            fr = np.unique(np.concatenate([speakers[i].frames for i in u]))
            uspk.append(LocalSpeaker(fr, np.ones(len(fr))))
        dur = np.array([len(s.frames) * step_s for s in uspk])
        x = emb(uri, uspk)
        if kw.get('center'):
            x = x - (x * dur[:, None]).sum(0) / dur.sum(); x = x / np.linalg.norm(x, axis=1, keepdims=True)
        long_enough = dur >= min_embed
        if long_enough.sum() < 2: long_enough[:] = True
        cs = ClusterSettings(thr, nspk, 1, None, mcs, "cosine")
        cl = np.zeros(len(uspk), np.int64)
        w = dur if mode != "base" else None
        cl[long_enough] = cluster_embeddings(x[long_enough], cs, None if w is None else w[long_enough])
        if not long_enough.all():
            m = centroids(x[long_enough], cl[long_enough], int(cl.max()) + 1, "cosine")
            cl[~long_enough] = nearest(x[~long_enough], m, "cosine")
        ucl = np.zeros(len(speakers), np.int64)
        for u, k in zip(units, cl):
            ucl[u] = k
        if reseg and cl.max() > 0:
            xs = emb(uri, speakers)
            m = centroids(x, cl, int(cl.max()) + 1, "cosine")
            ucl = nearest(xs, m, "cosine")
        labels = vote(speakers, ucl, n)
    seg = frames_to_segments(labels, len(r.audio), uri, 16000, G.hop, G.n_fft, MIN_SEGMENT_SECONDS)
    if cond == "oracle":
        seg = crop_to_regions(seg, c["regions"])
    s = score(r.reference, seg, r.uem, uri)
    s["k"] = len({x.speaker for x in seg})
    return s

def one(uri, cond="own", onset=0.25, **kw):
    c = CACHE[uri]; r = c["r"]
    from vfreport.bench.pipeline_der import _runs
    from vfreport.deploy.scoring import one_speaker_segments
    if cond == "oracle":
        seg = one_speaker_segments(r.reference, uri)
    else:
        m = speech_mask(uri, onset, **kw); seg = _runs(m, G.frame_centers(len(m)), uri)
    return score(r.reference, seg, r.uem, uri)

def fmt(s):
    return f"{100*s['der']:.1f}({s.get('k','-')}) c{100*s['confusion']:.0f}"
