"""The request decoders and response encoders of the SageMaker framework containers
(sagemaker-containers' CSV, JSON and NPY codecs), over numpy. Runs in the model server.

Deviations: parameters of a media type (`text/csv; charset=utf-8`) are ignored instead of
refused, and NPY input is loaded without pickle support.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np

CSV = "text/csv"
JSON = "application/json"
NPY = "application/x-npy"
LIBSVM = "text/libsvm"
X_LIBSVM = "text/x-libsvm"
ANY = "*/*"
TEXT_TYPES = frozenset({CSV, JSON})

Body = bytes | str  # the containers hand text types to input_fn decoded


class ModelServerError(Exception):
    """A request the model server answers with `status` and `message` (not a 200)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def unsupported_content_type(content_type: str) -> ModelServerError:
    """HTTP 415, as the containers answer a Content-Type they cannot decode."""
    return ModelServerError(415, f"Content type {content_type} is not supported by this server.")


def unsupported_accept(accept: str, supported: tuple[str, ...]) -> ModelServerError:
    """HTTP 406, as the containers answer an Accept they cannot encode."""
    return ModelServerError(
        406, f"Accept type {accept} is not supported. Supported: {', '.join(supported)}."
    )


def media_type(header: str | None) -> str:
    """`Text/CSV; charset=utf-8` -> `text/csv` ('' when absent)."""
    return (header or "").split(";", 1)[0].strip().lower()


def response_type(media: str) -> str:
    """The Content-Type a Flask-based container sends for `media` (text types get a charset)."""
    return f"{media}; charset=utf-8" if media.startswith("text/") else media


def text(body: Body) -> str:
    """A request body as UTF-8 text (HTTP 400 when it is not)."""
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelServerError(400, f"request body is not UTF-8 text: {err}") from err


def csv_to_array(body: Body) -> np.ndarray:
    """CSV rows -> a float array, squeezed as the containers squeeze it (one row -> 1-D)."""
    rows = [row for row in csv.reader(io.StringIO(text(body)), strict=True) if row]
    try:
        return np.array(rows, dtype=float).squeeze()
    except ValueError as err:
        raise ModelServerError(400, f"Error while decoding csv: {err}") from err


def json_to_array(body: Body) -> np.ndarray:
    """A JSON array (of arrays) of numbers -> a float array."""
    try:
        return np.array(json.loads(text(body)), dtype=float)
    except (ValueError, TypeError) as err:
        raise ModelServerError(400, f"Error while decoding json: {err}") from err


def npy_to_array(body: Body) -> np.ndarray:
    """An NPY document -> its array (no pickled objects)."""
    data = body.encode() if isinstance(body, str) else body
    try:
        return np.asarray(np.load(io.BytesIO(data), allow_pickle=False))
    except (ValueError, OSError) as err:
        raise ModelServerError(400, f"Error while decoding npy: {err}") from err


def array_to_csv(values: Any) -> bytes:
    """One line per row; a 1-D array is one value per line (the containers' encoding)."""
    array = np.asarray(values)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(-1, 1)
    stream = io.StringIO()
    csv.writer(stream, lineterminator="\n").writerows(array.tolist())
    return stream.getvalue().encode()


def array_to_json(values: Any) -> bytes:
    """A JSON array (numpy values as lists)."""
    return json.dumps(values, default=lambda v: v.tolist()).encode()


def array_to_npy(values: Any) -> bytes:
    """An NPY document."""
    stream = io.BytesIO()
    np.save(stream, np.asarray(values))
    return stream.getvalue()


DECODERS = {CSV: csv_to_array, JSON: json_to_array, NPY: npy_to_array}
ENCODERS = {CSV: array_to_csv, JSON: array_to_json, NPY: array_to_npy}


def decode(body: Body, content_type: str) -> np.ndarray:
    """The containers' default decoding of a request body (415 for other types)."""
    decoder = DECODERS.get(media_type(content_type))
    if decoder is None:
        raise unsupported_content_type(content_type)
    return decoder(body)


def encode(values: Any, accept: str) -> tuple[bytes, str]:
    """The containers' default encoding of a prediction: (body, content type); 406 otherwise."""
    media = media_type(accept)
    encoder = ENCODERS.get(media)
    if encoder is None:
        raise unsupported_accept(accept, tuple(ENCODERS))
    return encoder(values), response_type(media)
