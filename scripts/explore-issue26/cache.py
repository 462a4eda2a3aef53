"""Cache local speakers + GE2E embeddings per recording & speech condition."""
import pickle, sys
import numpy as np
from vfreport.data.recordings import open_recordings, read_recording
from vfreport.deploy.predict import load_predictor, window_batches, local_speakers, DEFAULT_WINDOW_SECONDS
from vfreport.deploy.speech import detect_speech, SpeechSettings, silero_probabilities
from vfreport.deploy.scoring import Meeting, reference_speech
from vfreport.deploy.embed import embed

model = sys.argv[1]; out = sys.argv[2]
p = load_predictor(model)
recs = open_recordings("/work/ami-more/audio", "/work/ami-more/all.rttm", "/work/ami-more/all.uem")
sr, step = p.sample_rate, p.frame_step
window = int(round((p.window_seconds or 2.0) * sr)); hop = window // 2 // step * step
cache = {}
for r in recs.recordings:
    audio = read_recording(r, sr)
    n_frames = p.num_frames(len(audio))
    meeting = Meeting(r.uri, audio, r.reference, r.uem)
    probs = silero_probabilities(audio)
    d = {"reference": r.reference, "uem": r.uem, "n": len(audio), "n_frames": n_frames, "silero": probs}
    for cond, speech in {"own": detect_speech(audio, p.geometry, SpeechSettings()),
                         "oracle": reference_speech(meeting, p.geometry)}.items():
        speakers = []
        for batch in window_batches(p, audio, window, hop):
            speakers.extend(local_speakers(*batch, np.asarray(speech, bool)))
        x = embed("encoder", audio, speakers, p.geometry, n_frames)
        d[cond] = {"speech": np.asarray(speech, bool), "speakers": speakers, "x": x}
    cache[r.uri] = d
    print(r.uri, len(d["own"]["speakers"]), len(d["oracle"]["speakers"]), flush=True)
pickle.dump({"geometry": (sr, step, p.n_fft), "cache": cache}, open(out, "wb"))
