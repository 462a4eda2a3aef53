"""ONNX export with parity checks, and predict (audio to RTTM)."""
