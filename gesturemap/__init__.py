"""gesturemap: real-time gesture-to-sound mapping.

Record demonstrations of gestures, train GMM/GMR and hierarchical HMM/HMR models (IRCAM XMM's
family) in a fraction of a second, and follow a gesture frame by frame: which gesture, how far
into it, and the sound parameters it maps to.
"""

# ruff: noqa: E402 - the public names come after the hook below
from __future__ import annotations

# before any kernel module is imported: numba's cache of a kernel is then renewed when a
# kernel it calls changes, not only when its own file does
from .utils.jit_cache import watch_kernel_imports

watch_kernel_imports()

from ._version import __version__
from .data import Dataset, Recording, Rehearsal
from .errors import FormatError, GesturemapError, NotFittedError, ProjectBusy, TrainingCancelled
from .interop.xmm.model_import import load_xmm
from .models import (
    DTW,
    GMM,
    GVF,
    HHMM,
    HMM,
    KNN,
    MLP,
    NULL,
    SVM,
    AdaBoost,
    DecisionTree,
    Event,
    Linear,
    NaiveBayes,
    PerOutput,
    Polynomial,
    Result,
    Spotter,
    SpotVerifier,
    check_params,
    load,
    spot,
)
from .project import Project, Take
from .utils.data_dirs import examples_dir

__all__ = ["Dataset", "FormatError", "GMM", "GesturemapError", "HHMM", "NotFittedError",
           "Project", "ProjectBusy", "Recording", "Take", "Result", "TrainingCancelled", "load",
           "load_xmm", "__version__"]
__all__ += ["AdaBoost", "DecisionTree", "KNN", "Linear", "MLP", "NaiveBayes", "Polynomial", "SVM"]
__all__ += ["DTW"]
__all__ += ["PerOutput"]
__all__ += ["GVF"]
__all__ += ["examples_dir"]

# explanations and take reviews
from .explain import Explanation, explain  # noqa: E402
from .review import Reviews, ReviewSummary, TakeReview, review_takes  # noqa: E402

__all__ += ["Explanation", "explain", "Reviews", "ReviewSummary", "TakeReview", "review_takes"]

# the take to record next, from the same review of the takes
from .evaluation.next_take import NextTake, suggest_next_take  # noqa: E402

__all__ += ["NextTake", "suggest_next_take"]
__all__ += ["HMM"]
__all__ += ["auto", "check_params"]
__all__ += ["NULL", "Event", "Spotter", "spot"]

# the spotting verifier, trained from continuous labelled recordings, and the context
# relabeller, trained on the same recordings' labelled gestures
from .evaluation.spotting.cv import fit_verifier  # noqa: E402
from .evaluation.spotting.relabel import fit_relabeler  # noqa: E402

__all__ += ["SpotVerifier", "fit_relabeler", "fit_verifier"]

# the window detector merged beside the spotter, trained from the same recordings
from .models.spotting.detector import WindowDetector, fit_detector  # noqa: E402

__all__ += ["WindowDetector", "fit_detector"]

# the model search; for a spotting dataset with rehearsals, the second opinions trained too
from .evaluation.auto import auto, dataset_from_rehearsals  # noqa: E402

__all__ += ["Rehearsal", "dataset_from_rehearsals"]

# the rehearsal audit: false triggers on ordinary movement, thresholds within a budget
from .evaluation.audit import Audit, audit  # noqa: E402

__all__ += ["Audit", "audit"]

# the vocabulary guide: how distinct a take is, and which takes blur their class
from .evaluation.vocabulary import (  # noqa: E402
    Blur,
    Distinctness,
    VocabularyGuide,
    distinctness,
    vocabulary_guide,
)

__all__ += ["Blur", "Distinctness", "VocabularyGuide", "distinctness", "vocabulary_guide"]
