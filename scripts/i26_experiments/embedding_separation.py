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
    win = np.array(win)
    maj = np.array([act[s.frames].sum(0).argmax() for s in speakers])
    dur = np.array([len(s.frames) for s in speakers]) * G.hop / 16000
    x = emb(uri, speakers)
    S = x @ x.T
    ok = dur >= 0.4
    same = (maj[:, None] == maj[None]) & ~np.eye(len(maj), dtype=bool) & ok[:, None] & ok[None]
    diff = (maj[:, None] != maj[None]) & ok[:, None] & ok[None]
    pairs = [(i, i+1) for i in range(len(win)-1) if win[i] == win[i+1]]
    pd = [maj[i] != maj[j] for i, j in pairs]
    print(cond, uri, "n", len(maj), "share spk1 %.2f" % (dur[maj==1].sum()/dur.sum()), "within %.3f between %.3f" % (S[same].mean(), S[diff].mean()),
          "two-label windows", len(pairs), "differ", sum(pd))
    # LDA-ish: direction from within-window differences
    D = np.array([x[i] - x[j] for i, j in pairs])
    if len(D):
        u, s_, vt = np.linalg.svd(D, full_matrices=False)
        proj = x @ vt[0]
        from sklearn.metrics import roc_auc_score
        print("   AUC of projection on top diff direction: %.2f" % max(roc_auc_score(maj, proj), 1-roc_auc_score(maj, proj)), "sv", np.round(s_[:4],2))
        # AUC of raw: first PC of x
        xc = x - x.mean(0); u2, s2, v2 = np.linalg.svd(xc, full_matrices=False); p2 = xc @ v2[0]
        print("   AUC top PC of embeddings: %.2f" % max(roc_auc_score(maj, p2), 1-roc_auc_score(maj, p2)))
