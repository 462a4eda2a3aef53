import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from harness import *
for pad in (0.03, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2):
    row = []
    for uri in CACHE:
        s = run(uri, "own", pad=pad); o = one(uri, "own", pad=pad)
        row.append("new " + fmt(s) + " miss%.1f fa%.1f" % (100*s["missed_detection"], 100*s["false_alarm"]) + " one %.1f" % (100 * o["der"]))
    print(pad, " | ".join(row), flush=True)
