"""Label builders on hand-made segments (expected arrays worked out by hand) and property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vfreport import objective as O
from vfreport.data import labels as L
from vfreport.data.geometry import GEOMETRY

num_frames, frame_centers = GEOMETRY.num_frames, GEOMETRY.frame_centers


T2 = num_frames(32_000)  # frames of a 2 s window: 1 + (32000 - 400) // 256 = 124


def test_frame_geometry_used_here():
    assert T2 == 124
    # frame i is centred at 0.0125 + 0.016 i seconds
    assert frame_centers(3).tolist() == pytest.approx([0.0125, 0.0285, 0.0445])


# ---------------------------------------------------------------------------------------------
# round robin
# ---------------------------------------------------------------------------------------------


def test_round_robin_order_of_first_appearance():
    assert L.round_robin_labels([7, 3, 7, 9, 3, 11]).tolist() == [0, 1, 0, 0, 1, 1]
    assert L.first_appearance_numbers([7, 3, 7, 9, 3, 11]).tolist() == [0, 1, 0, 2, 1, 3]


def test_round_robin_strings_and_empty():
    assert L.round_robin_labels(["b", "a", "b", "c"]).tolist() == [0, 1, 0, 0]
    assert L.round_robin_labels([]).tolist() == []
    assert L.round_robin_labels([5]).dtype == np.int64


def test_round_robin_is_not_sorted_order():
    # sorted order would number 3 first; first appearance numbers 9 first
    assert L.round_robin_labels([9, 3, 1]).tolist() == [0, 1, 0]


def test_utterance_labels_mask_padding():
    labels, mask = L.utterance_labels(1, 32_000, 16_000)
    assert labels.tolist() == [1] * T2
    # frames wholly inside the first 16000 samples: 1 + (16000 - 400) // 256 = 61
    assert mask.tolist() == [True] * 61 + [False] * (T2 - 61)
    labels, mask = L.utterance_labels(0, 32_000, 40_000)
    assert mask.all() and (labels == 0).all()


# ---------------------------------------------------------------------------------------------
# activity and two-speaker
# ---------------------------------------------------------------------------------------------

# Speaker A 0-1 s, B 0.9-2 s in a 2 s window. Frame centres c_i = 0.0125 + 0.016 i:
#   A active while c_i < 1.0   -> i = 0..61
#   B active while c_i >= 0.9  -> i = 56..123
#   overlap i = 56..61 (masked); A alone i = 0..55 (label 0, A speaks first); B alone 62..123 (1).
AB = [(0.0, 1.0, "A"), (0.9, 2.0, "B")]


def test_speaker_activity_by_hand():
    act = L.speaker_activity(AB, 0.0, T2)
    assert act.shape == (T2, 2)
    assert np.flatnonzero(act[:, 0]).tolist() == list(range(0, 62))
    assert np.flatnonzero(act[:, 1]).tolist() == list(range(56, 124))


def test_speaker_activity_window_offset():
    # the same turns seen from a window starting at 0.5 s: A active while 0.5 + c_i < 1.0 -> i <= 30
    act = L.speaker_activity(AB, 0.5, T2)
    assert np.flatnonzero(act[:, 0]).tolist() == list(range(0, 31))
    # B from 0.5 + c_i >= 0.9 -> i >= 24.2 -> 25; until 0.5 + c_i < 2.0 -> i <= 92
    assert np.flatnonzero(act[:, 1]).tolist() == list(range(25, 93))


def test_two_speaker_window_by_hand():
    labels, mask = L.two_speaker_window(L.speaker_activity(AB, 0.0, T2))
    expected_mask = np.r_[np.ones(56, bool), np.zeros(6, bool), np.ones(62, bool)]
    expected_labels = np.r_[np.zeros(62, np.int64), np.ones(62, np.int64)]
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_array_equal(labels[mask], expected_labels[expected_mask])
    assert labels.dtype == np.int64 and mask.dtype == bool


def test_two_speaker_first_speaker_is_label_zero_whatever_the_name():
    # B (second in sorted order) speaks first: B's frames are 0
    turns = [(0.0, 1.0, "B"), (1.0, 2.0, "A")]
    labels, mask = L.two_speaker_window(L.speaker_activity(turns, 0.0, T2))
    # B while c_i < 1.0 -> i = 0..61 ; A from i = 62
    assert mask.all()
    assert labels.tolist() == [0] * 62 + [1] * 62


def test_two_speaker_rejects_other_speaker_counts_and_thin_speakers():
    assert L.two_speaker_window(L.speaker_activity([(0.0, 2.0, "A")], 0.0, T2)) is None
    three = [(0.0, 0.6, "A"), (0.6, 1.2, "B"), (1.2, 2.0, "C")]
    assert L.two_speaker_window(L.speaker_activity(three, 0.0, T2)) is None
    assert L.two_speaker_window(np.zeros((T2, 2), bool)) is None
    # B alone only 0.1 s (6 frames, < 10 % of 124): not informative enough by default
    thin = [(0.0, 1.9, "A"), (1.9, 2.0, "B")]
    act = L.speaker_activity(thin, 0.0, T2)
    assert L.two_speaker_window(act) is None
    assert L.two_speaker_window(act, min_share=0.01) is not None


def test_first_speaker_tie_broken_by_first_solo_frame():
    # both start at 0; A never speaks alone, B does from 0.5 s -> B counts as first
    act = L.speaker_activity([(0.0, 0.5, "A"), (0.0, 2.0, "B")], 0.0, T2)
    assert L.first_speaker(act, [0, 1]) == 1
    labels, mask = L.two_speaker_window(act, min_share=0.0)
    assert (labels[mask] == 0).all() and mask.sum() > 0


def test_speaker_activity_turns_object_and_unknown_speakers():
    turns = L.Turns.from_lists([0.0, 1.0], [0.5, 2.0], ["X", "W"])
    assert turns.names == ("W", "X")
    act = L.speaker_activity(turns, 0.0, T2)
    assert act[:, 1].sum() > 0 and act[0, 1] and not act[0, 0]
    assert L.speaker_activity([], 0.0, 5).shape == (5, 0)


# ---------------------------------------------------------------------------------------------
# cluster
# ---------------------------------------------------------------------------------------------


def test_speaker_groups_sorted_halves():
    assert L.speaker_groups(["A", "B", "C", "D"]).tolist() == [0, 0, 1, 1]
    assert L.speaker_groups(["D", "A", "C", "B"]).tolist() == [1, 0, 1, 0]
    assert L.speaker_groups(["C", "B", "A"]).tolist() == [1, 0, 0]  # odd: first group larger


def test_cluster_labels_by_hand():
    # A 0-0.5 (group 0), C 0.5-1.5 (group 1), D 1.4-2.0 (group 1): C/D overlap masked even in one group
    turns = L.Turns.from_segments([(0.0, 0.5, "A"), (0.5, 1.5, "C"), (1.4, 2.0, "D"), (0.2, 0.3, "B")])
    act = L.speaker_activity(turns, 0.0, T2)
    groups = L.speaker_groups(turns.names)  # A, B -> 0; C, D -> 1
    labels, mask = L.cluster_labels(act, groups)
    c = frame_centers(T2)
    a_alone = (c < 0.5) & ~((c >= 0.2) & (c < 0.3))
    expected_mask = a_alone | ((c >= 0.5) & (c < 1.4)) | (c >= 1.5)
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_array_equal(labels[mask], (c[mask] >= 0.5).astype(np.int64))
    assert L.cluster_window(act, groups) is not None
    assert L.cluster_window(act, groups, min_scored=0.99) is None


# ---------------------------------------------------------------------------------------------
# pairs
# ---------------------------------------------------------------------------------------------


def test_pairs_window_by_hand():
    first, second = np.full(16_000, 0.1, np.float32), np.full(16_000, -0.2, np.float32)
    audio, labels, mask = L.pairs_window(first, second, same=False)
    np.testing.assert_array_equal(audio, np.r_[first, second])
    # frame i covers samples [256 i, 256 i + 400): wholly in the first half for i <= 60,
    # wholly in the second for i >= 63 (256 * 63 = 16128 >= 16000); 61, 62 straddle -> masked
    assert mask.tolist() == [True] * 61 + [False] * 2 + [True] * 61
    assert labels[mask].tolist() == [0] * 61 + [1] * 61
    _, labels_same, mask_same = L.pairs_window(first, second, same=True)
    assert (labels_same == 0).all() and mask_same.tolist() == mask.tolist()


def test_solo_runs_by_hand():
    act = np.zeros((10, 2), bool)
    act[0:4, 0] = True
    act[3:6, 1] = True  # overlap at frame 3
    act[8:10, 1] = True
    spk, start, stop = L.solo_runs(act)
    assert list(zip(spk.tolist(), start.tolist(), stop.tolist(), strict=True)) == [(0, 0, 3), (1, 4, 6), (1, 8, 10)]
    spk, start, stop = L.solo_runs(act, min_frames=3)
    assert spk.tolist() == [0] and start.tolist() == [0]


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------

turn = st.tuples(
    st.floats(0.0, 6.0, allow_nan=False),
    st.floats(0.02, 3.0, allow_nan=False),
    st.sampled_from(["A", "B", "C", "Dé"]),
)


def _brute_activity(turns, window_start, n):
    names = sorted({s for _, _, s in turns})
    centres = window_start + frame_centers(n)
    act = np.zeros((n, len(names)), bool)
    for i, t in enumerate(centres):
        for start, end, spk in turns:
            if start <= t < end:
                act[i, names.index(spk)] = True
    return act, names


@settings(max_examples=150, deadline=None)
@given(
    segs=st.lists(turn, min_size=1, max_size=8),
    window_start=st.floats(0.0, 5.0, allow_nan=False),
    n=st.integers(1, 200),
)
def test_activity_matches_brute_force_and_labels_are_consistent(segs, window_start, n):
    turns = [(s, s + d, spk) for s, d, spk in segs]
    act = L.speaker_activity(turns, window_start, n)
    brute, names = _brute_activity(turns, window_start, n)
    np.testing.assert_array_equal(act, brute)
    n_active = brute.sum(axis=1)

    got = L.two_speaker_window(act, min_share=0.0)
    active = np.flatnonzero(brute.any(axis=0))
    if len(active) != 2:
        assert got is None
    else:
        labels, mask = got
        np.testing.assert_array_equal(mask, n_active == 1)  # scored <=> exactly one speaker
        onsets = [int(np.argmax(brute[:, c])) for c in active]
        if onsets[0] != onsets[1]:
            first = active[int(np.argmin(onsets))]
            who = np.argmax(brute, axis=1)
            np.testing.assert_array_equal(labels[mask], (who[mask] != first).astype(np.int64))

    groups = L.speaker_groups(names)
    labels, mask = L.cluster_labels(act, groups)
    np.testing.assert_array_equal(mask, n_active == 1)
    who = np.argmax(brute, axis=1)
    np.testing.assert_array_equal(labels[mask], groups[who[mask]])
    assert set(np.unique(labels).tolist()) <= {0, 1}

    spk, start, stop = L.solo_runs(act)
    for s_, a, b in zip(spk, start, stop, strict=True):
        assert (n_active[a:b] == 1).all() and brute[a:b, s_].all()
    assert sum((stop - start).tolist()) == int((n_active == 1).sum())


@settings(max_examples=60, deadline=None)
@given(ids=st.lists(st.integers(0, 20), max_size=40))
def test_round_robin_property(ids):
    labels = L.round_robin_labels(ids)
    seen: list[int] = []
    for i, x in enumerate(ids):
        if x not in seen:
            seen.append(x)
        assert labels[i] == seen.index(x) % 2


def test_position_baseline_accuracy_by_hand():
    from vfreport.data.labels import position_baseline_accuracy

    # train: position 0 is mostly label 0, position 1 mostly label 1, position 2 tied (-> 0)
    tl = np.array([[0, 1, 0], [0, 1, 1], [1, 0, 0], [0, 1, 1]])
    tm = np.ones_like(tl, dtype=bool)
    vl = np.array([[0, 1, 1], [1, 1, 0]])
    vm = np.array([[True, True, True], [True, False, True]])
    # predictions [0, 1, 0]: val hits 0,1 | miss 2 ; miss 0 | (masked) | hit 2 -> 3 of 5
    assert position_baseline_accuracy(tl, tm, vl, vm) == pytest.approx(3 / 5)


def test_position_baseline_is_chance_for_window_level_labels():
    from vfreport.data.labels import position_baseline_accuracy

    rng = np.random.default_rng(0)
    tl = np.repeat(rng.integers(0, 2, (200, 1)), 50, axis=1)
    vl = np.repeat(rng.integers(0, 2, (200, 1)), 50, axis=1)
    m = np.ones_like(tl, dtype=bool)
    assert abs(position_baseline_accuracy(tl, m, vl, m) - 0.5) < 0.08


# ---------------------------------------------------------------------------------------------
# objectives (fixed / permutation-invariant) and the audio-free baseline under each
# ---------------------------------------------------------------------------------------------


def test_resolve_objective():
    assert O.resolve_objective("round-robin", "auto") == "fixed"
    assert O.resolve_objective("pairs", "auto") == "fixed"
    assert O.resolve_objective("two-speaker", "auto") == O.DEFAULT_OBJECTIVE["two-speaker"]
    assert O.resolve_objective("two-speaker", "fixed") == "fixed"
    assert O.resolve_objective("cluster", "pit") == "pit"
    assert O.resolve_objective(None, "auto") == "fixed"  # unknown strategy: nothing to resolve against
    for strategy in ("round-robin", "pairs"):  # their labels are the task: swapping them is wrong
        with pytest.raises(ValueError, match="pit"):
            O.resolve_objective(strategy, "pit")
    with pytest.raises(ValueError, match="objective"):
        O.resolve_objective("two-speaker", "hungarian")


def test_window_hits_pit_takes_the_better_permutation():
    labels = np.array([[0, 0, 1, 1, 1], [0, 1, 1, 1, 0]])
    mask = np.array([[True] * 5, [True, True, True, False, True]])
    pred = np.array([[1, 1, 0, 0, 1], [0, 1, 1, 1, 0]])
    # window 0: 1 hit as given, 4 after swapping; window 1: 4 of 4 scored as given
    assert L.window_hits(pred, labels, mask, "fixed").tolist() == [1, 4]
    assert L.window_hits(pred, labels, mask, "pit").tolist() == [4, 4]
    # one label for every frame scores the majority-speaker share under PIT
    assert L.window_hits(np.zeros(5), labels, mask, "pit").tolist() == [3, 2]


def test_audio_free_baseline_by_hand():
    train = np.array([[0, 0, 1, 1], [0, 0, 0, 1], [0, 1, 1, 1]])  # position rule: [0, 0, 1, 1]
    tmask = np.ones_like(train, dtype=bool)
    val = np.array([[0, 0, 0, 1], [1, 1, 0, 0], [0, 1, 0, 1]])
    vmask = np.ones_like(val, dtype=bool)
    # fixed: the position rule [0,0,1,1] scores 3 + 0 + 2 of 12
    assert L.audio_free_baseline_accuracy("fixed", train, tmask, val, vmask) == pytest.approx(5 / 12)
    # pit: position rule scores max(3,1) + max(0,4) + max(2,2) = 9; constant scores 3 + 2 + 2 = 7;
    # the change-point rules [0,1,1,1] / [0,0,1,1] / [0,0,0,1] score 2+3+3 = 8 / 3+4+2 = 9 / 4+3+3 = 10
    assert L.best_change_point_rule(val, vmask) == (3, 10)
    assert L.audio_free_baseline_accuracy("pit", train, tmask, val, vmask) == pytest.approx(10 / 12)
    # windows where the constant rule is best: it is the change point c = 0
    assert L.best_change_point_rule(np.array([[0, 1, 0, 0]]), vmask[:1]) == (0, 3)
    # a position rule that beats every single change point (two changes) is kept
    two = np.array([[0, 1, 1, 0]] * 3)
    assert L.audio_free_baseline_accuracy("pit", two, tmask, two, vmask) == pytest.approx(1.0)
    assert L.best_change_point_rule(two, vmask)[1] == 9
    assert np.isnan(L.audio_free_baseline_accuracy("pit", train, tmask, val, np.zeros_like(vmask)))


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_pit_baseline_is_at_least_the_majority_share_and_the_fixed_baseline(seed):
    rng = np.random.default_rng(seed)
    tl, vl = rng.integers(0, 2, (6, 9)), rng.integers(0, 2, (5, 9))
    tm, vm = rng.random((6, 9)) < 0.8, rng.random((5, 9)) < 0.8
    if not vm.any():
        return
    pit = L.audio_free_baseline_accuracy("pit", tl, tm, vl, vm)
    share = np.maximum((vl.astype(bool) & vm).sum(1), (~vl.astype(bool) & vm).sum(1)).sum() / vm.sum()
    assert pit >= share - 1e-12
    assert pit >= L.audio_free_baseline_accuracy("fixed", tl, tm, vl, vm) - 1e-12
    assert 0.5 <= pit <= 1.0
    # no audio-free "change at frame c" predictor has a positive lift over it (the null's guarantee),
    # and best_change_point_rule finds the best of them (brute force over every c)
    rules = [L.window_hits(np.arange(9) >= c, vl, vm, "pit").sum() for c in range(10)]
    assert max(rules) / vm.sum() <= pit + 1e-12
    c, hits = L.best_change_point_rule(vl, vm)
    assert hits == max(rules) and rules[c] == hits
