"""Install the Service Catalog extension into moto's response class (idempotent).

Each operation is a function `(caller, request) -> response` over plain dicts; installing adds
it to moto's ServiceCatalogResponse under the method name moto dispatches to, replacing moto's
own method where one exists. Operations run one at a time (they read several accounts).
"""

import json
import threading
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores
from moto.servicecatalog.responses import ServiceCatalogResponse

from mlops_seeds.sandbox.catalog import (
    artifacts,
    enduser,
    portfolios,
    provisioning,
    sharing,
    updates,
)
from mlops_seeds.sandbox.catalog.context import Caller
from mlops_seeds.sandbox.catalog.errors import CatalogError

Operation = Callable[[Caller, dict[str, Any]], dict[str, Any]]

# Held by every catalog operation, and by other extensions that call into the catalog.
LOCK = threading.RLock()
_MARK = "_mlops_seeds_extension"


def operations() -> dict[str, Operation]:
    """Every operation the extension provides, by AWS operation name."""
    return {
        **artifacts.OPERATIONS,
        **portfolios.OPERATIONS,
        **sharing.OPERATIONS,
        **enduser.OPERATIONS,
        **provisioning.OPERATIONS,
        **updates.OPERATIONS,
    }


def _method(operation: Operation) -> Callable[[Any], ActionResult]:
    def method(response: Any) -> ActionResult:
        request = json.loads(response.body or "{}")
        with LOCK:
            caller = Caller.of(response)
            try:
                result = operation(caller, request)
            except CatalogError as err:
                raise JsonRESTError(err.code, err.message) from err
        return ActionResult(result)

    method.__doc__ = operation.__doc__
    return method


def install() -> None:
    """Add the extension's operations to moto's ServiceCatalog responses (once)."""
    if getattr(ServiceCatalogResponse, _MARK, False):
        return
    for name, operation in operations().items():
        setattr(ServiceCatalogResponse, camelcase_to_underscores(name), _method(operation))
    setattr(ServiceCatalogResponse, _MARK, True)


def installed() -> bool:
    """Whether install() has run in this process."""
    return bool(getattr(ServiceCatalogResponse, _MARK, False))
