"""Clustering of local-speaker embeddings into the recording's speakers, the count estimated
(docs/pipeline.md).

Method. Agglomerative clustering (:func:`scipy.cluster.hierarchy.linkage`): average linkage on
cosine distance for the encoder's L2-normalised embeddings, Ward on euclidean distance for the
hand-made features. The number of speakers, unless given (``num_speakers``), is the number of
clusters whose merge distance stays below ``threshold`` and that hold at least
``min_cluster_size`` embeddings (pyannote's agglomerative clustering uses the same two rules: a
calibrated threshold and a minimum cluster size), clipped to ``[min_speakers, max_speakers]``.
The ``k`` largest clusters are kept; the members of smaller ones join the nearest kept centroid.

Bounded memory. Linkage holds the n(n−1)/2 pairwise distances, so at most ``chunk`` embeddings
are clustered at once: a longer sequence is cut into consecutive chunks, each chunk is clustered
into at most :data:`CHUNK_CLUSTERS` sub-clusters, and their centroids are clustered in turn
(recursively, should there be more than ``chunk`` of them). Memory O(chunk²) whatever the length;
time O(n · chunk · d) (linear in the recording). Recordings with at most ``chunk`` local speakers
(≈ 8 min at two per second) are clustered exactly, in one stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vfreport.errors import ConfigError

CHUNK = 1000
"""Embeddings clustered at once: 1000 → 4 MB of pairwise distances."""
CHUNK_CLUSTERS = 32
"""Sub-clusters kept per chunk in the first stage of a long recording (over-segmentation)."""
METHODS = {"cosine": "average", "euclidean": "ward"}


@dataclass(frozen=True)
class ClusterSettings:
    """``threshold``: merge distance below which two clusters are one speaker (None: the count must
    come from ``num_speakers``, else :data:`DEFAULT_SPEAKERS_WITHOUT_THRESHOLD`); ``num_speakers``
    fixes the count; ``min_speakers`` / ``max_speakers`` bound the estimated count;
    ``min_cluster_size``: embeddings a cluster needs to count as a speaker."""

    threshold: float | None = None
    num_speakers: int | None = None
    min_speakers: int = 1
    max_speakers: int | None = None
    min_cluster_size: int = 1
    metric: str = "cosine"
    chunk: int = CHUNK

    def __post_init__(self) -> None:
        if self.metric not in METHODS:
            raise ConfigError(f"unknown clustering metric {self.metric!r}: {', '.join(METHODS)}")
        if self.num_speakers is not None and self.num_speakers < 1:
            raise ConfigError(f"num_speakers must be >= 1, got {self.num_speakers}")
        if self.min_speakers < 1 or (self.max_speakers is not None and self.max_speakers < self.min_speakers):
            raise ConfigError(f"need 1 <= min_speakers ({self.min_speakers}) <= max_speakers ({self.max_speakers})")
        if self.chunk < 2 * CHUNK_CLUSTERS:
            raise ConfigError(f"clustering chunk {self.chunk} must be at least {2 * CHUNK_CLUSTERS}")


DEFAULT_SPEAKERS_WITHOUT_THRESHOLD = 2


def _linkage(x: np.ndarray, metric: str) -> np.ndarray:
    from scipy.cluster.hierarchy import linkage

    return linkage(x, METHODS[metric], metric=metric)


def centroids(x: np.ndarray, labels: np.ndarray, k: int, metric: str) -> np.ndarray:
    """(k, d) mean of each cluster's rows (L2-normalised for the cosine metric)."""
    c = np.stack([x[labels == i].mean(axis=0) for i in range(k)])
    if metric == "cosine":
        c /= np.linalg.norm(c, axis=1, keepdims=True) + 1e-12
    return c


def nearest(x: np.ndarray, means: np.ndarray, metric: str) -> np.ndarray:
    """Index of the closest row of ``means`` for every row of ``x``."""
    if metric == "cosine":
        return np.argmax(x @ means.T, axis=1)
    return np.argmin(((x[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)


def _count(sizes: np.ndarray, s: ClusterSettings) -> int:
    if s.num_speakers is not None:
        return s.num_speakers
    if s.threshold is None:
        k = DEFAULT_SPEAKERS_WITHOUT_THRESHOLD
    else:
        k = max(1, int((sizes >= s.min_cluster_size).sum()))
    return int(np.clip(k, s.min_speakers, s.max_speakers if s.max_speakers is not None else k))


def _cluster_exact(x: np.ndarray, s: ClusterSettings, weights: np.ndarray) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster

    n = len(x)
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    z = _linkage(x, s.metric)
    if s.threshold is not None:
        labels = fcluster(z, s.threshold, "distance") - 1
    else:
        labels = fcluster(z, DEFAULT_SPEAKERS_WITHOUT_THRESHOLD, "maxclust") - 1
    k = min(_count(np.bincount(labels, weights), s), n)
    if labels.max() + 1 < k:
        labels = fcluster(z, k, "maxclust") - 1
    sizes = np.bincount(labels, weights)
    kept = np.argsort(-sizes, kind="stable")[:k]
    remap = np.full(len(sizes), -1)
    remap[kept] = np.arange(len(kept))
    out = remap[labels]
    small = out < 0
    if small.any():
        out[small] = nearest(x[small], centroids(x, out, len(kept), s.metric), s.metric)
    return out


def cluster_embeddings(x: np.ndarray, settings: ClusterSettings, weights: np.ndarray | None = None) -> np.ndarray:
    """Cluster index (0..k−1) of every row of ``x`` (see module doc for the method and its bounds).

    ``weights``: how many embeddings each row stands for (default 1 each); cluster sizes, compared
    with ``min_cluster_size``, count them (the second stage's centroids carry their members)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n <= settings.chunk:
        return _cluster_exact(x, settings, w)
    sub = ClusterSettings(num_speakers=CHUNK_CLUSTERS, metric=settings.metric, chunk=settings.chunk)
    fine = np.zeros(n, dtype=np.int64)
    means: list[np.ndarray] = []
    members: list[np.ndarray] = []
    for a in range(0, n, settings.chunk):
        part = x[a : a + settings.chunk]
        labels = _cluster_exact(part, sub, w[a : a + settings.chunk])
        k = int(labels.max()) + 1
        fine[a : a + len(part)] = labels + sum(len(m) for m in means)
        means.append(centroids(part, labels, k, settings.metric))
        members.append(np.bincount(labels, w[a : a + settings.chunk], minlength=k))
    coarse = cluster_embeddings(np.concatenate(means), settings, np.concatenate(members))
    return coarse[fine]
