"""Which Python interpreter stands in for a container image.

SageMaker's own framework images (scikit-learn, XGBoost, PyTorch), recognised by their ECR
repository name, run on the current interpreter. Any other image needs a mapping from the
user: `URI=local` (the current interpreter) or `URI=/path/to/python`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from mlops_seeds.errors import SeedsError

# ECR repositories of the SageMaker framework containers the runner stands in for.
FRAMEWORK_REPOSITORIES = frozenset(
    {
        "sagemaker-scikit-learn",
        "sagemaker-xgboost",
        "pytorch-training",
        "pytorch-inference",
        "sagemaker-pytorch",
    }
)
# ECR repository of a SageMaker framework image -> the model server framework serving it
# (the sandbox's endpoints and the runner's transform jobs).
SERVING_FRAMEWORKS = {
    "sagemaker-xgboost": "xgboost",
    "sagemaker-scikit-learn": "sklearn",
}
ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)(?:[:@].*)?$"
)
LOCAL = "local"
PYTHON_COMMAND = re.compile(r"^(?:.*/)?python(?:3(?:\.\d+)?)?$")


def parse_image_map(pairs: Iterable[str]) -> dict[str, str]:
    """`URI=local|PYTHON` strings -> {URI: interpreter path}, each interpreter checked."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        uri, sep, target = pair.rpartition("=")
        if not sep or not uri or not target:
            raise SeedsError(f"--image-map {pair!r}: expected URI=local or URI=/path/to/python")
        if target == LOCAL:
            mapping[uri] = sys.executable
            continue
        path = Path(target).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise SeedsError(f"--image-map {pair!r}: {target} is not an executable file")
        mapping[uri] = str(path)
    return mapping


def repository(image: str) -> str | None:
    """The ECR repository name of an image URI, or None when it is not an ECR image."""
    match = ECR_IMAGE.match(image)
    return match["repo"] if match else None


def interpreter_for(image: str, image_map: Mapping[str, str]) -> str | None:
    """The interpreter that runs `image`, or None when the runner cannot run it."""
    if image in image_map:
        return image_map[image]
    if repository(image) in FRAMEWORK_REPOSITORIES:
        return sys.executable
    return None


def localize_command(command: list[str], interpreter: str) -> list[str]:
    """An entrypoint with its `python`/`python3` executable replaced by `interpreter`."""
    if command and PYTHON_COMMAND.match(command[0]):
        return [interpreter, *command[1:]]
    return list(command)
