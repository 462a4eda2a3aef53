import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from harness import *
for thr in (0.3, 0.35, 0.4, 0.45):
    row = [fmt(run(uri, cond, thr=thr, pad=0.1 if cond == "own" else 0.03)) for cond in ("own", "oracle") for uri in CACHE]
    print(os.environ.get("WIN"), thr, " | ".join(row), flush=True)
