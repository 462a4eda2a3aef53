"""The notebook templates (train, review), shipped as package data."""
