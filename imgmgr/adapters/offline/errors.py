"""Errors of the offline labeler: one base class, subclasses with stable codes."""

from __future__ import annotations

from lambdas.domain.errors import ImgMgrError


class OfflineLabelerError(ImgMgrError):
    """Base error of the offline labeler (model, weights, vocabulary)."""

    code = "Labeler.Offline"


class ModelUnavailableError(OfflineLabelerError):
    """The model cannot be loaded: its weights package is missing or the file is unreadable."""

    code = "Labeler.ModelUnavailable"


class UnsafeCheckpointError(OfflineLabelerError):
    """A checkpoint file asks for something a plain tensor dictionary never needs (code, modules)."""

    code = "Labeler.UnsafeCheckpoint"


class MalformedCheckpointError(OfflineLabelerError):
    """A checkpoint file is truncated, inconsistent or not a tensor dictionary."""

    code = "Labeler.MalformedCheckpoint"
