"""What every layer may use: validation with one error shape, atomic storage, hardened file
reading, rate-limited fault logging, data folders, MIDI port lookup, thread scheduling, the
frame budget and catching one thread's warnings."""
