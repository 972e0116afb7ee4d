"""gesturemap's models: GMM/GMR and hierarchical HMM/HMR (XMM's family), behind one API.

``model.fit(dataset)``, ``model.stream().step(frame)``, ``model.log_likelihood(seq)``,
``model.predict(seqs)``, ``model.save(path)`` / :func:`load`.
"""

from __future__ import annotations

from .base import MODEL_REGISTRY, BaseModel, Cancel, Result, check_params, load, restore
from .classic.core import KNN, SVM, ClassicModel, ClassicStream, NaiveBayes
from .classic.nets import MLP, Linear, Polynomial
from .classic.trees import AdaBoost, DecisionTree
from .dtw import DTW, DTWStream
from .featured import Featured, FeaturedStream
from .gmm import GMM, GMMStream
from .gvf.core import GVF, GVFStream
from .hhmm import HHMM, HHMMStream
from .hmm import HMM, HMMStream
from .per_output import PerOutput, PerOutputStream
from .search import auto, selection_of
from .spotting.core import NULL, Event, Spotter, SpottingStream, spot
from .spotting.verifier import SpotVerifier

__all__ = ["BaseModel", "Cancel", "check_params", "GMM", "GMMStream", "HHMM", "HHMMStream", "MODEL_REGISTRY",
           "Result", "load", "restore"]
__all__ += ["AdaBoost", "ClassicModel", "ClassicStream", "DecisionTree", "KNN", "Linear", "MLP",
            "NaiveBayes", "Polynomial", "SVM"]
__all__ += ["DTW", "DTWStream"]
__all__ += ["PerOutput", "PerOutputStream"]
__all__ += ["HMM", "HMMStream"]
__all__ += ["Featured", "FeaturedStream", "auto", "selection_of"]
__all__ += ["NULL", "Event", "Spotter", "SpottingStream", "spot"]
__all__ += ["SpotVerifier"]
__all__ += ["GVF", "GVFStream"]
