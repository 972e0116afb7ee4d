"""Wekinator's projects, examples (ARFF), models and DTW settings, read and written.

:mod:`~gesturemap.interop.wekinator.project` is the entry point (``gesturemap import``,
``import_wekinator``, ``export_arff``); the other modules each hold one of Wekinator's formats.
"""
