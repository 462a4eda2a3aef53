"""Rows to model-ready windows: frame geometry, audio, RTTM, labels, windows, sources and the
synthetic corpora. Imports no torch."""
