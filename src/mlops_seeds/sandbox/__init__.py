"""The AWS sandbox: moto's server on 127.0.0.1 with the operations moto lacks, reached
through AWS_ENDPOINT_URL like real AWS.

`Sandbox` is imported on first use: processes started from inside the sandbox (model
servers, pipeline steps) import modules of this package without loading moto.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_seeds.sandbox.server import Sandbox

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:
    if name == "Sandbox":
        from mlops_seeds.sandbox.server import Sandbox

        return Sandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
