"""The SageMaker scikit-learn container's serving, in the model server: script mode only.

The user's module (SAGEMAKER_PROGRAM) must define model_fn; the container's defaults stand
in for the others: input_fn decodes text/csv, application/json or application/x-npy into
an array (float32 for the text types), predict_fn calls model.predict, output_fn encodes
as the Accept type asks (default application/json, or SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlops_seeds.sandbox.hosting import codecs, handlers


def default_input(body: codecs.Body, content_type: str) -> np.ndarray:
    """The container's input_fn: decode; float32 for text/csv and application/json."""
    array = codecs.decode(body, content_type)
    if codecs.media_type(content_type) in codecs.TEXT_TYPES:
        return array.astype(np.float32)
    return array


def default_predict(data: Any, model: Any) -> Any:
    """The container's predict_fn."""
    return model.predict(data)


def default_output(prediction: Any, accept: str) -> tuple[bytes, str]:
    """The container's output_fn."""
    return codecs.encode(prediction, accept)


DEFAULTS = handlers.Defaults(
    model_fn=handlers.no_model_fn,
    input_fn=default_input,
    predict_fn=default_predict,
    output_fn=default_output,
    content_type=codecs.JSON,
    accept=codecs.JSON,
)


def load(model_dir: Path, env: Mapping[str, str]) -> handlers.Handler:
    """The handler the scikit-learn container would serve `model_dir` with, given `env`."""
    return handlers.script_handler(model_dir, env, DEFAULTS)
