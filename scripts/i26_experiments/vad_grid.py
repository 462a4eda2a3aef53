import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from harness import *
for onset in (0.25, 0.35, 0.5):
  for pad in (0.03, 0.1, 0.2, 0.3):
    for msil in (0.1, 0.3):
        row = []
        for uri in CACHE:
            kw = dict(pad=pad, min_silence=msil)
            row.append("new " + fmt(run(uri, "own", onset=onset, **kw)) + " one %.1f" % (100 * one(uri, "own", onset, **kw)["der"]))
        print(onset, pad, msil, " | ".join(row), flush=True)
