def turns(speech, votes, cover, q):
    cut = (votes / np.maximum(cover, 1)) >= q if q <= 1 else np.zeros(len(speech), bool)
    out = []; start = None
    for i in range(len(speech)):
        if speech[i] and start is not None and cut[i]:
            out.append(np.arange(start, i)); start = i
        elif speech[i] and start is None: start = i
        elif not speech[i] and start is not None:
            out.append(np.arange(start, i)); start = None
    if start is not None: out.append(np.arange(start, len(speech)))
    return out
def embed_partials(audio, units, n, size=100, step=50):
    pieces, owner = [], []
    for k, x in enumerate(units):
        starts = list(range(0, max(1, len(x) - size + 1), step))
        if len(x) > size and starts[-1] + size < len(x): starts.append(len(x) - size)
        for s in starts:
            pieces.append(x[s:s + size]); owner.append(k)
    E = encoder_embeddings(audio, [LocalSpeaker(pc, np.ones(len(pc))) for pc in pieces], G, n)
    owner = np.array(owner); X = np.zeros((len(units), E.shape[1]))
    for k in range(len(units)): X[k] = E[owner == k].mean(0)
    return X / np.linalg.norm(X, axis=1, keepdims=True)
