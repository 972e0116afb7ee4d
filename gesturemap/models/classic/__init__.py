"""Wekinator's classic models: kNN, SVM, naive Bayes, decision tree, AdaBoost, MLP, linear and
polynomial regression, all with the same ``fit`` / ``stream().step()`` shape."""

from __future__ import annotations

from ._kernels import ACTIVATIONS, SVM_KERNELS
from .core import KNN, SVM, ClassicModel, ClassicStream, NaiveBayes
from .nets import MLP, Linear, Polynomial
from .trees import AdaBoost, DecisionTree

__all__ = ["ACTIVATIONS", "KNN", "MLP", "SVM", "SVM_KERNELS", "AdaBoost", "ClassicModel",
           "ClassicStream", "DecisionTree", "Linear", "NaiveBayes", "Polynomial"]
