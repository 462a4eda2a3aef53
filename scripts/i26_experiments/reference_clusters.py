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
    maj = np.array([act[s.frames].sum(0).argmax() for s in speakers])
    pur = np.array([act[s.frames].sum(0).max() / max(1, act[s.frames].sum()) for s in speakers])
    dur = np.array([len(s.frames) for s in speakers])
    labels = vote(speakers, maj, n)
    seg = frames_to_segments(labels, len(r.audio), uri, 16000, G.hop, G.n_fft, MIN_SEGMENT_SECONDS)
    if cond == "oracle": seg = crop_to_regions(seg, c["regions"])
    s = score(r.reference, seg, r.uem, uri)
    # frame-level oracle: label each speech frame by ref majority (model-free)
    lab2 = np.where(sp & (act.sum(1) > 0), act.argmax(1), np.where(sp, 0, -1))
    seg2 = frames_to_segments(lab2, len(r.audio), uri, 16000, G.hop, G.n_fft, MIN_SEGMENT_SECONDS)
    if cond == "oracle": seg2 = crop_to_regions(seg2, c["regions"])
    s2 = score(r.reference, seg2, r.uem, uri)
    print(cond, uri, "n local", len(speakers), "weighted purity %.2f" % (np.sum(pur*dur)/dur.sum()), "oracle-cluster DER", fmt(s), "oracle-labels", fmt(s2), "one", fmt(one(uri, cond)))
