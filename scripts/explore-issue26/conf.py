import pickle, sys, numpy as np
from vfreport.data.recordings import open_recordings, read_recording
from vfreport.deploy.embed import encoder_embeddings, LocalSpeaker
from vfreport.data.geometry import GEOMETRY as G
D = pickle.load(open(sys.argv[1], "rb")); q = float(sys.argv[3])
recs = open_recordings("/work/ami-more/audio", "/work/ami-more/all.rttm", "/work/ami-more/all.uem")
for r in recs.recordings:
    audio = read_recording(r, 16000); d = D["cache"][r.uri]
    for cond in ("own", "oracle"):
        sp = d[cond]["speakers"]
        conf = [LocalSpeaker(s.frames[s.weights >= q], s.weights[s.weights >= q]) if (s.weights >= q).sum() >= 8 else s for s in sp]
        d[cond]["x"] = encoder_embeddings(audio, conf, G, d["n_frames"])
pickle.dump(D, open(sys.argv[2], "wb"))
