"""The errors the SageMaker API returns (HTTP 400, JSON `__type` + `message`)."""


class SageMakerError(Exception):
    """A SageMaker client error; `code` is the AWS error type."""

    code = "ValidationException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Validation(SageMakerError):
    """The input fails to satisfy the constraints of the operation."""

    code = "ValidationException"


class ResourceNotFound(SageMakerError):
    """The resource being accessed is not found."""

    code = "ResourceNotFound"


class Conflict(SageMakerError):
    """The request conflicts with the current state of the resource."""

    code = "ConflictException"


def constraint(value: object, member: str, rule: str) -> Validation:
    """A ValidationException worded as SageMaker words a failed member constraint."""
    return Validation(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {rule}"
    )
