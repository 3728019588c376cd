"""Base class of the feature transformers: a pandas frame in, a pandas frame out, by column name."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from underwriting.features._common import require_frame


class FrameTransformer(TransformerMixin, BaseEstimator):
    """Reads named columns of an exchange frame and returns a frame of named numeric features.

    Subclasses define ``_input_columns()`` (the columns read), ``_output_names()`` and
    ``_transform(X) -> DataFrame``; they may override ``_check(X)`` for input validation.
    Columns are selected by name, so the column order of ``X`` never matters and extra columns are
    ignored. The output index is ``X``'s index.
    """

    def _input_columns(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _output_names(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _transform(self, X: pd.DataFrame) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check(self, X: pd.DataFrame) -> None:
        """Validate parameters and input; raise InputError naming the field."""

    def fit(self, X, y=None):
        """Check the input and remember the column names; nothing is learnt from the rows."""
        X = require_frame(X, self._input_columns(), what=type(self).__name__)
        self._check(X)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X) -> pd.DataFrame:
        """Return the features of each row of ``X`` (same index), columns ``get_feature_names_out()``."""
        check_is_fitted(self, "n_features_in_")
        X = require_frame(X, self._input_columns(), what=type(self).__name__)
        self._check(X)
        out = self._transform(X)
        out.index = X.index
        return out[self._output_names()].astype(float)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output features (input names are not used: every output is derived)."""
        check_is_fitted(self, "n_features_in_")
        return np.asarray(self._output_names(), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.requires_fit = True
        return tags
