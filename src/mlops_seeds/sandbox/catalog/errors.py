"""The errors the Service Catalog API returns (HTTP 400, JSON `__type` + `message`)."""


class CatalogError(Exception):
    """A Service Catalog client error; `code` is the AWS error type."""

    code = "InvalidParametersException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameters(CatalogError):
    """One or more parameters provided to the operation are not valid."""

    code = "InvalidParametersException"


class ResourceNotFound(CatalogError):
    """The specified resource was not found."""

    code = "ResourceNotFoundException"


class DuplicateResource(CatalogError):
    """The specified resource is a duplicate."""

    code = "DuplicateResourceException"


class ResourceInUse(CatalogError):
    """A resource that is currently in use."""

    code = "ResourceInUseException"


class OperationNotSupported(CatalogError):
    """The operation is not supported."""

    code = "OperationNotSupportedException"


class InvalidState(CatalogError):
    """The operation is not allowed in the resource's current state."""

    code = "InvalidStateException"


class LimitExceeded(CatalogError):
    """The current limits of the service would have been exceeded by this operation."""

    code = "LimitExceededException"
