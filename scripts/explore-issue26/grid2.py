import sys, itertools
sys.path.insert(0, "/work/explore")
import grid as G
from grid import TRN, HELD, C, thr
import numpy as np
def corpus(uris, cond, fn, me):
    rs = {u: G.run(u, cond, fn, min_embed=me) for u in uris}
    return sum(r["error"] for r in rs.values()) / sum(r["total"] for r in rs.values()), rs
one = lambda x, *a: np.zeros(len(x), int)
for cond in ("oracle", "own"):
    a, _ = corpus(TRN, cond, one, 0.4); b, _ = corpus(HELD, cond, one, 0.4)
    print(cond, "one", f"{100*a:.1f}/{100*b:.1f}")
    for me in (0.4, 0.8, 1.0, 1.2, 1.4):
        out = []
        for t in (0.25, 0.3, 0.35, 0.4, 0.45):
            for m in (1, 3):
                a, ra = corpus(TRN, cond, thr(t, m), me); b, rb = corpus(HELD, cond, thr(t, m), me)
                out.append(f"t{t} m{m}: {100*a:.1f}/{100*b:.1f}")
        print(cond, me, " | ".join(out), flush=True)
