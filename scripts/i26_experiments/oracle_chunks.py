import numpy as np
from vfreport.bench.pipeline_der import open_recordings, default_data
from vfreport.deploy.predict import load_predictor
from vfreport.deploy.embed import LocalSpeaker, encoder_embeddings
p = load_predictor("/work/demo-base/model.onnx")
g = p.geometry
recs = open_recordings(default_data())
for r in recs:
    n = g.num_frames(len(r.audio))
    c = g.frame_centers(n) if hasattr(g,'frame_centers') else None
    c = g.frame_centers(n)
    # per-frame speaker sets
    spk = sorted({s.speaker for s in r.reference})
    act = np.zeros((n, len(spk)), bool)
    for s in r.reference:
        act[(c >= s.start) & (c < s.start + s.duration), spk.index(s.speaker)] = True
    single = act.sum(1) == 1
    # oracle turns: runs of single-speaker frames
    lab = np.where(single, act.argmax(1), -1)
    ch = np.flatnonzero(np.diff(lab)) + 1
    st = np.r_[0, ch]; en = np.r_[ch, n]
    sp = []; who = []
    for a, b in zip(st, en):
        if lab[a] >= 0 and (b - a) * g.hop / 16000 >= 0.3:
            sp.append(LocalSpeaker(np.arange(a, b), np.ones(b - a))); who.append((spk[lab[a]], (b - a) * g.hop / 16000))
    x = encoder_embeddings(r.audio, sp, g, n)
    sim = x @ x.T
    print(r.uri, [(w, round(d, 1)) for w, d in who])
    np.set_printoptions(precision=2, linewidth=200)
    print(sim)
    # 1-s chunks of oracle turns
    for L in (1.0, 2.0):
        sp2 = []; who2 = []
        f = int(L * 16000 / g.hop)
        for s0, (w, d) in zip(sp, who):
            for k in range(0, len(s0.frames) - f + 1, f):
                sp2.append(LocalSpeaker(s0.frames[k:k+f], np.ones(f))); who2.append(w)
        x2 = encoder_embeddings(r.audio, sp2, g, n)
        w2 = np.array(who2)
        s2 = x2 @ x2.T
        same = (w2[:, None] == w2[None]) & ~np.eye(len(w2), dtype=bool)
        diff = w2[:, None] != w2[None]
        print(L, "n", len(w2), "within", s2[same].mean().round(3), "between", s2[diff].mean().round(3))
