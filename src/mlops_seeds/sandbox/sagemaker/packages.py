"""UpdateModelPackage changes only what the request gives, as the SageMaker API does.

moto 5.2.5 overwrites every field the request may carry: approving a package drops its
CustomerMetadataProperties and ApprovalDescription (and a request without
ModelApprovalStatus clears the status). In the API reference each of these request members
is optional and updates only when given: ModelApprovalStatus and ApprovalDescription
replace the package's values, CustomerMetadataProperties adds or changes the keys it names,
CustomerMetadataPropertiesToRemove removes keys. The backend method is wrapped, so the API
and anything else calling the backend see the same behaviour.
"""

from collections.abc import Callable
from typing import Any

from moto.sagemaker.models import SageMakerModelBackend

_MARK = "_mlops_seeds_packages"
Method = Callable[..., str]


def _kept(original: Method) -> Method:
    def update_model_package(
        self: SageMakerModelBackend,
        model_package_arn: str,
        model_approval_status: str | None = None,
        approval_description: str | None = None,
        customer_metadata_properties: dict[str, str] | None = None,
        customer_metadata_properties_to_remove: list[str] | None = None,
        additional_inference_specifications_to_add: list[Any] | None = None,
        **kwargs: Any,
    ) -> str:
        name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
        package = self.model_packages.get(name)
        if package is None:  # moto's own ValidationException
            return original(
                self,
                model_package_arn=model_package_arn,
                model_approval_status=model_approval_status,
                approval_description=approval_description,
                customer_metadata_properties=customer_metadata_properties,
                customer_metadata_properties_to_remove=customer_metadata_properties_to_remove,
                additional_inference_specifications_to_add=additional_inference_specifications_to_add,
                **kwargs,
            )
        metadata = {**(package.customer_metadata_properties or {})}
        metadata.update(customer_metadata_properties or {})
        for key in customer_metadata_properties_to_remove or []:
            metadata.pop(key, None)
        had_metadata = package.customer_metadata_properties is not None
        return original(
            self,
            model_package_arn=model_package_arn,
            model_approval_status=model_approval_status or package.model_approval_status,
            approval_description=(
                package.approval_description
                if approval_description is None
                else approval_description
            ),
            customer_metadata_properties=metadata
            if metadata or had_metadata or customer_metadata_properties is not None
            else None,
            customer_metadata_properties_to_remove=[],
            additional_inference_specifications_to_add=additional_inference_specifications_to_add,
            **kwargs,
        )

    update_model_package.__doc__ = original.__doc__
    return update_model_package


def install() -> None:
    """Wrap moto's update_model_package (once)."""
    backend = SageMakerModelBackend
    if getattr(backend, _MARK, False):
        return
    backend.update_model_package = _kept(backend.update_model_package)  # type: ignore[method-assign]
    setattr(backend, _MARK, True)
