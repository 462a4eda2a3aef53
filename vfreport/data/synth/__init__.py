"""Deterministic synthetic corpora in the Hugging Face schemas (docs/data.md).

The embedded default data source: LibriSpeech-like utterances (``openslr/librispeech_asr``
schema) and AMI-like meetings (``diarizers-community/ami`` schema), generated from a seed by a
vectorised source-filter synthesiser, so the adapters that read real data read these unchanged.

Voices. Every speaker gets traits drawn from a seed (:func:`speaker_voice`): F0 median from two
overlapping populations (male-like around 115 Hz, female-like around 190 Hz, 85-260 Hz overall),
intonation (declination and accent ranges), vocal-tract scaling of the formants (0.85-1.2) plus
small per-formant deviations, formant bandwidths, spectral tilt, syllable rate, pause rate,
loudness, breathiness, jitter and shimmer. No single trait separates two random speakers;
together they make voices learnable. Each utterance adds within-speaker variation (F0 and
loudness shifts, rate changes), and each LibriSpeech chapter a channel colouring.

Voice separability (``voice_spread``, an arm setting): every trait's distance from one common
voice (:data:`COMMON_VOICE`) is multiplied by it, and so are an AMI speaker's meeting level and
pitch offset. 1 (default) keeps the populations above; 0 gives every speaker the same voice and
renders an AMI meeting as that one voice talking from start to end whatever the turns, a corpus
whose audio is independent of its labels: nothing in it tells who speaks or when the speaker
changes (a null with a known answer); the turns of a meeting do not depend on it.

Measured separability of the default voices (the demo's 128 held-out two-speaker windows of
AMI-like test meetings, frame accuracy under permutation-invariant scoring; ``voice_spread`` 0 /
1 / 4): 2-means on each window's 40 log-mel frames 57.6 / 59.7 / 72.7 %; the best split along
the two speakers' mean difference (which needs the labels) 68.8 / 76.0 / 84.4 %; the best single
change point by log-mel means 72.6 / 73.6 / 84.9 %; the audio-free baseline 83.4 %. Single frames
say little about the voice; what separates speakers is their stretches of speech, which is what
the demo's model learns (92.1 % on the same windows at spread 1, 83.5 % at spread 0).

Synthesis (:func:`synthesize`). An utterance is a sequence of syllables: an optional consonant
(fricative noise, stop burst, aspiration or voiced sonorant murmur), a vowel nucleus with
Peterson & Barney (1952) formants F1-F3 scaled by the vocal-tract factor, and sometimes a pause.
The excitation (a sawtooth at the speaker's F0 contour with jitter and shimmer, plus breath and
consonant noise) is filtered in the STFT domain (512-point frames, hop 256, sqrt-Hann analysis
and synthesis windows, 50 % overlap-add) by a cascade-formant envelope per frame; all of it is
numpy array work on a 1-ms grid (envelopes, F0, syllable plan) and per sample only for the
excitation and the STFT, with no per-sample Python loop. Background noise (coloured, SNR 10-30 dB
for LibriSpeech, 15-30 dB for AMI) and a small random gain are added at the end. Speed on one
core (:func:`vfreport.bench.synth_speed.realtime_factor`): the synthesiser ~900-1200x real time;
finished LibriSpeech rows (noise, FLAC) ~500-700x; AMI meetings (mixing, room, FLAC) ~400-600x.

Meetings (:func:`ami_meeting`). 2-4 speakers from the split's pool; turns of 0.4-4 s, 40 % of
them quick replies or back-channels after which the previous speaker usually resumes (so 2-s
windows often hold two speakers, and often A-B-A rather than only A-B), short gaps, some longer
silences, ~20 % of turn changes overlapping by 0.15-0.6 s. Each voice is mixed at its own level,
then a weak room tail and room noise are added.

Determinism. Row ``i`` of :func:`librispeech_rows` and meeting ``i`` of :func:`ami_rows`
depend only on ``(seed, split, i)`` (and ``n_speakers`` / ``pool_size`` when given), so the
first ``k`` rows of a request for ``n`` rows equal a request for ``k`` rows. Splits are
speaker-disjoint: speaker numbers come from ranges derived from the split name.

LibriSpeech-like durations are 2-15 s, skewed short to keep generation cheap: ``2 s +
Exponential(mean 2.2 s)`` capped at 15 s, so ~84 % are under 6 s (the real corpus: mostly
10-16 s).
"""

from vfreport.data.synth.ami import AMI_SPLIT_WIDTH, ami_meeting, ami_rows, ami_speaker_base
from vfreport.data.synth.librispeech import (
    LS_MEAN_EXTRA_SECONDS,
    LS_SPLIT_WIDTH,
    librispeech_row,
    librispeech_rows,
    librispeech_speaker_base,
)
from vfreport.data.synth.parquet import arrow_schema, write_corpus, write_parquet
from vfreport.data.synth.render import synthesize
from vfreport.data.synth.voices import COMMON_VOICE, VOICE_SPREAD, Voice, speaker_voice

__all__ = ["AMI_SPLIT_WIDTH", "COMMON_VOICE", "LS_MEAN_EXTRA_SECONDS", "LS_SPLIT_WIDTH", "VOICE_SPREAD", "Voice",
           "ami_meeting", "ami_rows", "ami_speaker_base", "arrow_schema", "librispeech_row", "librispeech_rows",
           "librispeech_speaker_base", "speaker_voice", "synthesize", "write_corpus", "write_parquet"]
