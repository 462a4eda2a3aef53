import sys, pickle, numpy as np
sys.path.insert(0, "/work/explore")
from sklearn.metrics import roc_auc_score
from vfreport.deploy.embed import encoder_embeddings, LocalSpeaker
from vfreport.data.geometry import GEOMETRY as G
exec(open("/work/explore/turns_lib.py").read())
cache = pickle.load(open("/work/explore/turns.pkl", "rb"))
t = (np.arange(2000) * G.hop + G.n_fft / 2) / 16000
for q in (0.5, 1.0, 2.0):
    for cond in ("oracle", "own"):
        S, L, lens = [], [], []
        for u, d in cache.items():
            tu = [x for x in turns(d[cond], d["votes"], d["cover"], q) if len(x) >= 25]
            spk = sorted({s.speaker for s in d["ref"]}); tt = t[: d["n"]]
            act = np.stack([np.any([(tt >= s.start) & (tt < s.start + s.duration) for s in d["ref"] if s.speaker == k], axis=0) for k in spk])
            maj = np.array([act[:, x].sum(1).argmax() for x in tu]); lens += [len(x) * 0.016 for x in tu]
            if len(set(maj)) < 2: continue
            X = embed_partials(d["audio"], tu, d["n"])
            iu = np.triu_indices(len(maj), 1); S.append((X @ X.T)[iu]); L.append(maj[iu[0]] == maj[iu[1]])
        print(q, cond, "turns", len(lens), "median len", round(np.median(lens), 2), "max", round(max(lens), 1),
              "AUC", round(roc_auc_score(np.concatenate(L), np.concatenate(S)), 3), flush=True)
