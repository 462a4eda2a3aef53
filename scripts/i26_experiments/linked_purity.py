import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from harness import *
for cond in ("own","oracle"):
  for uri in CACHE:
    c = CACHE[uri]; r = c["r"]; n = c["n"]
    sp = c["oracle"] if cond == "oracle" else speech_mask(uri)
    cen = G.frame_centers(n)
    spk = sorted({s.speaker for s in r.reference})
    act = np.zeros((n, len(spk)))
    for s in r.reference:
        act[(cen >= s.start) & (cen < s.start + s.duration), spk.index(s.speaker)] = 1
    speakers = local_speakers(c["probs"], c["firsts"], sp)
    win = []
    for p, f in zip(c["probs"], c["firsts"]):
        loc = p.argmax(1)
        for k in (0, 1):
            if ((loc == k) & sp[f:f+len(p)]).sum() >= 8: win.append(f)
    comp = link(speakers, win, 0.5)
    units = [list(np.flatnonzero(comp == u)) for u in np.unique(comp)]
    uspk = []
    for u in units:
        fr = np.unique(np.concatenate([speakers[i].frames for i in u])); uspk.append(LocalSpeaker(fr, np.ones(len(fr))))
    dur = np.array([len(s.frames) for s in uspk]) * G.hop / 16000
    pur = np.array([act[s.frames].sum(0).max() / max(1, act[s.frames].sum()) for s in uspk])
    maj = np.array([act[s.frames].sum(0).argmax() for s in uspk])
    x = emb(uri, uspk); S = x @ x.T
    print(cond, uri, "units", len(uspk), "dur", np.round(dur, 1), "purity", np.round(pur, 2), "maj", maj)
    ok = dur >= 1.0
    same = (maj[:, None] == maj[None]) & ~np.eye(len(maj), dtype=bool) & ok[:, None] & ok[None]
    diff = (maj[:, None] != maj[None]) & ok[:, None] & ok[None]
    print("   within %.3f between %.3f" % (S[same].mean(), S[diff].mean()))
