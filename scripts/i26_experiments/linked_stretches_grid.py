import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from harness import *
import itertools
for mode, ml, msh in [("base",None,0.5), ("link",None,0.5), ("link",None,0.7), ("link",4,0.5), ("link",8,0.5)]:
  for thr in (0.25, 0.3, 0.35, 0.4, 0.5):
    for mcs_s in (1.0, 2.0):
      row = []
      for cond in ("own", "oracle"):
        for uri in CACHE:
            mcs = 3 if mode=="base" else mcs_s
            row.append(fmt(run(uri, cond, thr=thr, mode=mode, max_len=ml, min_share=msh, mcs=mcs)))
      print(mode, ml, msh, thr, mcs_s, " | ".join(row), flush=True)
