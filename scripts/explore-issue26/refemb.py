import numpy as np, soundfile as sf
from resemblyzer import VoiceEncoder, preprocess_wav
from sklearn.metrics import roc_auc_score
from vfreport.data.rttm import parse_rttm
enc = VoiceEncoder("cpu", verbose=False)
ref = parse_rttm(open("/work/ami-more/all.rttm").read())
sims, labs = [], []
for u, segs in ref.items():
    wav, sr = sf.read(f"/work/ami-more/audio/{u}.wav", dtype="float32")
    # non-overlapped single-speaker stretches >= 1.0 s, cut into 1.0 s pieces
    pieces = []
    for s in segs:
        a, b = s.start, s.end
        for o in segs:
            if o is s or o.speaker == s.speaker: continue
        t = a
        while t + 1.0 <= b:
            if not any(o.speaker != s.speaker and o.start < t + 1.0 and o.end > t for o in segs):
                pieces.append((s.speaker, t))
            t += 1.0
    if len({p[0] for p in pieces}) < 2: continue
    X = np.stack([enc.embed_utterance(preprocess_wav(wav[int(t*sr):int((t+1.0)*sr)], sr)) for _, t in pieces])
    y = np.array([p[0] for p in pieces]); S = X @ X.T; iu = np.triu_indices(len(y), 1)
    same = y[iu[0]] == y[iu[1]]; sim = S[iu]
    print(u, len(pieces), round(roc_auc_score(same, sim), 2), f"within {sim[same].mean():.2f} between {sim[~same].mean():.2f}")
    sims.append(sim); labs.append(same)
print("pooled", round(roc_auc_score(np.concatenate(labs), np.concatenate(sims)), 3))
