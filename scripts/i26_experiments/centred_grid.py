import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from harness import *
for mode in ("base","link"):
  for thr in (0.6, 0.8, 0.9, 1.0, 1.1, 1.2):
    for mcs in (3, 2.0):
      if (mode == "base") != (mcs == 3): continue
      row = []
      for cond in ("own", "oracle"):
        for uri in CACHE:
            row.append(fmt(run(uri, cond, thr=thr, mode=mode, mcs=mcs, center=True)))
      print(mode, thr, mcs, " | ".join(row), flush=True)
