"""spotting."""
