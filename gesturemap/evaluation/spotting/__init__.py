"""Spotting evaluated: event-level scores (:mod:`~gesturemap.evaluation.spotting.scores`),
labelled streams and their folds (:mod:`~gesturemap.evaluation.spotting.streams`), nested
cross-validation of a spotter's settings (:mod:`~gesturemap.evaluation.spotting.cv`,
:mod:`~gesturemap.evaluation.spotting.variants`), held-out scoring
(:mod:`~gesturemap.evaluation.spotting.heldout`) and the second opinions trained on a
spotter's detections (:mod:`~gesturemap.evaluation.spotting.relabel`,
:mod:`~gesturemap.evaluation.spotting.stack`, :mod:`~gesturemap.evaluation.spotting.verifier_rule`)."""
