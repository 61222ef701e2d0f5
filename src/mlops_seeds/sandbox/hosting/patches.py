"""Install the hosting extension into moto (idempotent): SageMaker's endpoint operations
start and stop model servers, sagemaker-runtime's InvokeEndpoint calls them."""

from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from mlops_seeds.sandbox.hosting import backend, invoke

_MARK = "_mlops_seeds_hosting"


def install() -> None:
    """Patch moto's SageMaker backend and responses and the runtime's responses (once)."""
    if getattr(SageMakerModelBackend, _MARK, False):
        return
    SageMakerModelBackend.create_endpoint = backend.patched_create(  # type: ignore[method-assign]
        SageMakerModelBackend.create_endpoint
    )
    SageMakerModelBackend.delete_endpoint = backend.patched_delete(  # type: ignore[method-assign]
        SageMakerModelBackend.delete_endpoint
    )
    setattr(SageMakerModelBackend, "update_endpoint", backend.update_endpoint)  # noqa: B010
    setattr(SageMakerResponse, "update_endpoint", backend.update_endpoint_response)  # noqa: B010
    # Bodies are passed on as bytes: a model may take any payload, not only UTF-8 text.
    SageMakerRuntimeResponse.use_raw_body = True
    SageMakerRuntimeResponse.invoke_endpoint = invoke.invoke_endpoint  # type: ignore[assignment]
    setattr(SageMakerModelBackend, _MARK, True)


def installed() -> bool:
    """Whether install() has run in this process."""
    return bool(getattr(SageMakerModelBackend, _MARK, False))
