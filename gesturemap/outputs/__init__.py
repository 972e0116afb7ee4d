"""Where a model's results go: OSC messages, and the built-in synth (later)."""
