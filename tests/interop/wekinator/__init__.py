"""wekinator."""
