"""What answers POST /invocations in the model server: a loaded model behind the four
functions of SageMaker's script mode (model_fn, input_fn, predict_fn, output_fn).

Script mode loads the user's module (SAGEMAKER_PROGRAM in SAGEMAKER_SUBMIT_DIRECTORY) and
takes each function it defines, falling back to the framework container's default for the
others. Unlike the containers, a requirements.txt next to the module is not installed.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from mlops_seeds.sandbox.hosting import codecs

PROGRAM = "SAGEMAKER_PROGRAM"
SUBMIT_DIRECTORY = "SAGEMAKER_SUBMIT_DIRECTORY"
DEFAULT_ACCEPT = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"


class StartError(Exception):
    """The model server cannot start (bad model data, bad script, missing settings)."""


@dataclass(frozen=True)
class Reply:
    """A 200 answer of /invocations."""

    body: bytes
    content_type: str


class Handler(Protocol):
    """A loaded model answering invocations."""

    def invoke(self, body: bytes, content_type: str, accept: str) -> Reply:
        """Predict for one request; ModelServerError for a non-200 answer."""
        ...


@dataclass(frozen=True)
class Defaults:
    """A framework container's script-mode defaults and header fallbacks."""

    model_fn: Callable[[str], Any]
    input_fn: Callable[[Any, str], Any]
    predict_fn: Callable[[Any, Any], Any]
    output_fn: Callable[[Any, str], Any]
    content_type: str
    accept: str


@dataclass
class ScriptHandler:
    """A model served through the script-mode functions."""

    model: Any
    input_fn: Callable[[Any, str], Any]
    predict_fn: Callable[[Any, Any], Any]
    output_fn: Callable[[Any, str], Any]
    defaults: Defaults
    default_accept: str

    def invoke(self, body: bytes, content_type: str, accept: str) -> Reply:
        """input_fn -> predict_fn -> output_fn, with the container's header defaults."""
        content_type = content_type or self.defaults.content_type
        if not accept or accept == codecs.ANY:
            accept = self.default_accept
        text_body = codecs.media_type(content_type) in codecs.TEXT_TYPES
        data = self.input_fn(codecs.text(body) if text_body else body, content_type)
        prediction = self.predict_fn(data, self.model)
        return to_reply(self.output_fn(prediction, accept), accept)


def to_reply(result: Any, accept: str) -> Reply:
    """An output_fn result as a reply: (body, content type), or a body sent as `accept`."""
    if isinstance(result, Reply):
        return result
    if isinstance(result, tuple) and len(result) == 2:
        body, content_type = result
        return Reply(as_bytes(body), str(content_type))
    return Reply(as_bytes(result), codecs.response_type(codecs.media_type(accept)))


def as_bytes(body: Any) -> bytes:
    """str or bytes-like -> bytes."""
    if isinstance(body, str):
        return body.encode()
    return bytes(body)


def load_user_module(code_dir: Path, program: str) -> ModuleType:
    """Import `program` (a .py file in `code_dir`) with `code_dir` on sys.path."""
    path = code_dir / program
    if not path.is_file():
        raise StartError(f"{PROGRAM}={program}: {path} does not exist")
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise StartError(f"{PROGRAM}={program}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def script_handler(model_dir: Path, env: Mapping[str, str], defaults: Defaults) -> ScriptHandler:
    """The user's module loaded from SAGEMAKER_SUBMIT_DIRECTORY (a local directory by now,
    default `<model>/code`), its model loaded with its model_fn or the default."""
    program = env.get(PROGRAM, "")
    if not program:
        raise StartError(f"{PROGRAM} is not set: this container serves in script mode only")
    code_dir = Path(env.get(SUBMIT_DIRECTORY) or model_dir / "code")
    module = load_user_module(code_dir, program)
    if hasattr(module, "transform_fn"):
        raise StartError(f"{program}: transform_fn is not supported; use input/predict/output_fn")
    model_fn = getattr(module, "model_fn", defaults.model_fn)
    return ScriptHandler(
        model=model_fn(str(model_dir)),
        input_fn=getattr(module, "input_fn", defaults.input_fn),
        predict_fn=getattr(module, "predict_fn", defaults.predict_fn),
        output_fn=getattr(module, "output_fn", defaults.output_fn),
        defaults=defaults,
        default_accept=env.get(DEFAULT_ACCEPT) or defaults.accept,
    )


def no_model_fn(model_dir: str) -> Any:
    """The containers' default model_fn: there is none."""
    raise StartError("Please provide a model_fn implementation in the inference script")
