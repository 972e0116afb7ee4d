"""Parts of the ``gesturemap`` command line (:mod:`gesturemap.cli`), by command."""
