"""Install the SageMaker extension into moto's response class (idempotent).

Each operation is a function `(caller, request) -> response` over plain dicts; installing
adds it to moto's SageMakerResponse under the method name moto dispatches to, replacing
moto's own method where one exists. Operations take the locks they need themselves: some
wait on other services of the sandbox (Service Catalog, STS) while they run.
"""

import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores
from moto.sagemaker.responses import SageMakerResponse

from mlops_seeds.sandbox.catalog.context import Caller
from mlops_seeds.sandbox.sagemaker import executions, group_policies, names, packages, projects
from mlops_seeds.sandbox.sagemaker.errors import SageMakerError

Operation = Callable[[Caller, dict[str, Any]], dict[str, Any]]

_MARK = "_mlops_seeds_extension"


def operations() -> dict[str, Operation]:
    """Every operation the extension provides, by AWS operation name."""
    return {**projects.OPERATIONS, **executions.OPERATIONS, **group_policies.OPERATIONS}


def _method(operation: Operation) -> Callable[[Any], ActionResult]:
    def method(response: Any) -> ActionResult:
        request = json.loads(response.body or "{}")
        try:
            result = operation(Caller.of(response), request)
        except SageMakerError as err:
            raise JsonRESTError(err.code, err.message) from err
        return ActionResult(result)

    method.__doc__ = operation.__doc__
    return method


def install() -> None:
    """Add the extension's operations to moto's SageMaker responses and its name checks
    and package updates to moto's backend (once)."""
    names.install()
    packages.install()
    group_policies.install()
    if getattr(SageMakerResponse, _MARK, False):
        return
    for name, operation in operations().items():
        setattr(SageMakerResponse, camelcase_to_underscores(name), _method(operation))
    setattr(SageMakerResponse, _MARK, True)


def installed() -> bool:
    """Whether install() has run in this process."""
    return bool(getattr(SageMakerResponse, _MARK, False))
