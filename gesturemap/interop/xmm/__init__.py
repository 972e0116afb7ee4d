"""IRCAM XMM's JSON formats: training sets (:mod:`~gesturemap.interop.xmm.formats`), trained
models (:mod:`~gesturemap.interop.xmm.model_import`, :mod:`~gesturemap.interop.xmm.model_export`)
and whole XMM folders as projects (:mod:`~gesturemap.interop.xmm.project_import`)."""
