"""The cross-validations that chose GVF's defaults, kept as a record (see README.md)."""
