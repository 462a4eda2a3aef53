import json, sys
for d in sys.argv[1:]:
    e = json.load(open(d + "/results.json"))["evaluation"]
    for arm, runs in e["der"].items():
        out = []
        for run, ms in runs.items():
            out.append(100 * sum(m["error"] for m in ms.values()) / sum(m["total"] for m in ms.values()))
        print(d, arm, " ".join("%.1f" % x for x in out), "mean %.1f" % (sum(out) / len(out)))
    for b, ms in e["baseline_der"].items():
        if isinstance(ms, dict) and all(isinstance(v, dict) and "error" in v for v in ms.values()):
            print(d, b, "%.1f" % (100 * sum(m["error"] for m in ms.values()) / sum(m["total"] for m in ms.values())))
