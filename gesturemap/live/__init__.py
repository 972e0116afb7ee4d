"""Running a project live: the engine and what it holds.

:mod:`~gesturemap.live.engine` owns the frame path (:mod:`~gesturemap.live.frame_path`: the
pipeline and the model stream, one loop for live frames and offline replay,
:mod:`~gesturemap.live.replay`) and answers each frame; the objects around it record takes
(:mod:`~gesturemap.live.recording`, :mod:`~gesturemap.live.take_buffer`), apply edits and
corrections (:mod:`~gesturemap.live.edits`), search models in the background
(:mod:`~gesturemap.live.search`), count and publish health (:mod:`~gesturemap.live.health`,
:mod:`~gesturemap.live.notices`, :mod:`~gesturemap.live.snapshot`), send replies
(:mod:`~gesturemap.live.replies`, the compiled datagram path :mod:`~gesturemap.live.compiled`)
and train off the real-time path (:mod:`~gesturemap.live.trainer`, messages through
:mod:`~gesturemap.live.codec`, first-start preparation :mod:`~gesturemap.live.prepare`).
"""
