import numpy as np, soundfile as sf
from sklearn.metrics import roc_auc_score
from vfreport.data.rttm import parse_rttm
from vfreport.data.geometry import GEOMETRY as G
from vfreport.deploy.embed import encoder_embeddings, LocalSpeaker, mel_frames, encoder_session
ref = parse_rttm(open("/work/ami-more/all.rttm").read())
print(G)
res = {"ours": ([], []), "pad160": ([], [])}
for u, segs in ref.items():
    wav, sr = sf.read(f"/work/ami-more/audio/{u}.wav", dtype="float32")
    pieces = []
    for s in segs:
        t = s.start
        while t + 1.0 <= s.end:
            if not any(o.speaker != s.speaker and o.start < t + 1.0 and o.end > t for o in segs):
                pieces.append((s.speaker, t))
            t += 1.0
    if len({p[0] for p in pieces}) < 2: continue
    n_frames = 1 + (len(wav) - G.n_fft) // G.hop
    centres = (np.arange(n_frames) * G.hop + G.n_fft / 2) / sr
    sp = [LocalSpeaker(np.flatnonzero((centres >= t) & (centres < t + 1.0)), np.ones(1)) for _, t in pieces]
    X = encoder_embeddings(wav, sp, G, n_frames)
    # pad variant: mel of the piece padded with zeros to 160 frames
    sess, W, b = encoder_session()
    mel = mel_frames(wav, sr)
    Xp = []
    for _, t in pieces:
        m = mel[int(t * 100): int(t * 100) + 100]
        x = np.zeros((160, 1, 40), np.float32); x[:len(m), 0] = m
        (h,) = sess.run(["h"], {"x": x, "lens": np.array([160], np.int32)})
        r = np.maximum(h[0] @ W.T + b, 0); Xp.append(r[0] / np.linalg.norm(r))
    Xp = np.stack(Xp)
    y = np.array([p[0] for p in pieces]); iu = np.triu_indices(len(y), 1); same = y[iu[0]] == y[iu[1]]
    out = [u, len(pieces)]
    for k, M in (("ours", X), ("pad160", Xp)):
        sim = (M @ M.T)[iu]; res[k][0].append(sim); res[k][1].append(same)
        out.append(f"{k} {roc_auc_score(same, sim):.2f}")
    print(*out)
for k, (s, l) in res.items():
    print(k, "pooled", round(roc_auc_score(np.concatenate(l), np.concatenate(s)), 3))
