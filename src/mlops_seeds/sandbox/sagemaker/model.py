"""What the extension keeps beside moto's SageMaker resources, per account and region.

Projects hang off moto's own SageMaker backend object, so moto's reset clears them too.
Pipeline executions are moto's (so its other execution calls keep working), run by
`runs`.
"""

import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.sagemaker.models import sagemaker_backends

_STATE_ATTRIBUTE = "_mlops_seeds_sagemaker"
_ID_ALPHABET = string.ascii_lowercase + string.digits

# Held by every operation and by the execution threads while they touch shared state.
LOCK = threading.RLock()


def new_id(length: int = 12) -> str:
    """Lowercase letters and digits, as in SageMaker project and execution ids."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def now() -> datetime:
    """The current time, timezone-aware, to the millisecond as SageMaker reports times (so a
    time read back from the API filters as it was stored)."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass
class Project:
    """A SageMaker project: its request, and the Service Catalog records that made it."""

    name: str
    id: str
    arn: str
    description: str
    provisioning: dict[str, Any]  # ServiceCatalogProvisioningDetails, artifact id resolved
    tags: list[dict[str, str]]
    created_by: dict[str, Any]
    account: str
    region: str
    creator_arn: str
    provisioned_product_id: str = ""
    record_id: str = ""
    terminate_record_id: str = ""
    update_record_id: str = ""  # the last UpdateProject's record
    failure: str = ""  # why provisioning was refused before a record existed
    created: datetime = field(default_factory=now)
    modified: datetime | None = None


@dataclass
class SageMakerState:
    """The extension's state in one account and region."""

    projects: dict[str, Project] = field(default_factory=dict)  # by name


def backend(account: str, region: str) -> Any:
    """moto's SageMaker backend of an account and region."""
    return sagemaker_backends[account][region]


def state_of(sagemaker: Any) -> SageMakerState:
    """The extension state attached to a moto SageMaker backend (created on first use)."""
    state = sagemaker.__dict__.get(_STATE_ATTRIBUTE)
    if state is None:
        state = SageMakerState()
        setattr(sagemaker, _STATE_ATTRIBUTE, state)
    assert isinstance(state, SageMakerState)
    return state
