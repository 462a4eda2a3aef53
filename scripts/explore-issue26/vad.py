import pickle, sys, numpy as np
from vfreport.deploy.speech import SpeechSettings, regions_from_probabilities
from vfreport.data.rttm import Segment
from vfreport.deploy.scoring import score
D = pickle.load(open(sys.argv[1], "rb")); C = D["cache"]
TRN = [u for u in C if u.startswith("trn")]; HELD = [u for u in C if not u.startswith("trn")]
def der(uris, st):
    e = t = 0
    for u in uris:
        d = C[u]; regs = regions_from_probabilities(d["silero"], d["n"], st)
        hyp = [Segment(u, a / 16000, (b - a) / 16000, "A") for a, b in regs]
        s = score(d["reference"], hyp, d["uem"], u); e += s["error"]; t += s["total"]
    return 100 * e / t
for onset in (0.1, 0.15, 0.2, 0.25, 0.35, 0.5):
    for pad in (0.03, 0.1, 0.2):
        st = SpeechSettings(onset=onset, pad=pad)
        print(onset, pad, f"trn {der(TRN, st):.1f} held {der(HELD, st):.1f}")
