"""One module per console section; each exposes ``router``."""
