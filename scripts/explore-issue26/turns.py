"""Prototype: speech turns = speech runs cut where the model's within-window label changes; embed turns; cluster."""
import sys, pickle, itertools, numpy as np
from scipy.ndimage import median_filter
from sklearn.metrics import roc_auc_score
from vfreport.data.recordings import open_recordings, read_recording
from vfreport.deploy.predict import load_predictor, window_batches, frames_to_segments
from vfreport.deploy.speech import detect_speech, SpeechSettings
from vfreport.deploy.scoring import Meeting, reference_speech, score, crop_to_regions, speech_regions, rttm_round_trip
from vfreport.deploy.embed import encoder_embeddings, LocalSpeaker
from vfreport.deploy.cluster import ClusterSettings, cluster_embeddings, centroids, nearest
from vfreport.data.geometry import GEOMETRY as G
p = load_predictor(sys.argv[1]); MED = int(sys.argv[2]) if len(sys.argv) > 2 else 9
recs = open_recordings("/work/ami-more/audio", "/work/ami-more/all.rttm", "/work/ami-more/all.uem")
window = 32000; hop = 16000 // 256 * 256
def change_votes(audio, n):
    votes = np.zeros(n); cover = np.zeros(n)
    for probs, firsts in window_batches(p, audio, window, hop):
        for pr, f in zip(probs, firsts):
            lab = median_filter(pr.argmax(1), size=MED, mode="nearest") if MED > 1 else pr.argmax(1)
            ch = np.concatenate([[0], (np.diff(lab) != 0).astype(float)])
            votes[f:f + len(lab)] += ch[: n - f]; cover[f:f + len(lab)] += 1
    return votes, cover
def turns(speech, votes, cover, q):
    cut = (votes / np.maximum(cover, 1)) >= q
    out = []; start = None
    for i in range(len(speech)):
        if speech[i] and start is not None and cut[i]:
            out.append(np.arange(start, i)); start = i
        elif speech[i] and start is None: start = i
        elif not speech[i] and start is not None:
            out.append(np.arange(start, i)); start = None
    if start is not None: out.append(np.arange(start, len(speech)))
    return out
cache = {}
for r in recs.recordings:
    audio = read_recording(r, 16000); n = p.num_frames(len(audio))
    v, c = change_votes(audio, n)
    m = Meeting(r.uri, audio, r.reference, r.uem)
    cache[r.uri] = {"audio": audio, "n": n, "votes": v, "cover": c, "ref": r.reference, "uem": r.uem,
                    "own": np.asarray(detect_speech(audio, G, SpeechSettings()), bool), "oracle": np.asarray(reference_speech(m, G), bool)}
pickle.dump(cache, open("/work/explore/turns.pkl", "wb"))
t = (np.arange(2000) * G.hop + G.n_fft / 2) / 16000
for q in (0.5, 1.0):
    for cond in ("oracle", "own"):
        S, L, lens, pur = [], [], [], []
        for u, d in cache.items():
            tu = [x for x in turns(d[cond], d["votes"], d["cover"], q) if len(x) >= 8]
            spk = sorted({s.speaker for s in d["ref"]}); tt = t[: d["n"]]
            act = np.stack([np.any([(tt >= s.start) & (tt < s.start + s.duration) for s in d["ref"] if s.speaker == k], axis=0) for k in spk])
            maj = np.array([act[:, x].sum(1).argmax() for x in tu]); pu = [act[m_, x].mean() for m_, x in zip(maj, tu)]
            lens += [len(x) * 0.016 for x in tu]; pur += pu
            if len(set(maj)) < 2: continue
            X = encoder_embeddings(d["audio"], [LocalSpeaker(x, np.ones(len(x))) for x in tu], G, d["n"])
            iu = np.triu_indices(len(maj), 1); S.append((X @ X.T)[iu]); L.append(maj[iu[0]] == maj[iu[1]])
        print(q, cond, "turns", len(lens), "median len", round(np.median(lens), 2), "mean purity", round(np.mean(pur), 3),
              "AUC", round(roc_auc_score(np.concatenate(L), np.concatenate(S)), 3), flush=True)
