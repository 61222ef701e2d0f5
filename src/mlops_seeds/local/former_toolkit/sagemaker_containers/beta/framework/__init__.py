"""The former toolkit's `beta.framework` namespace, which framework scripts imported from."""

from typing import Any

from sagemaker_containers import _content_types as content_types
from sagemaker_containers import _encoders as encoders
from sagemaker_containers import _env as env
from sagemaker_containers import _errors as errors
from sagemaker_containers import _files as files
from sagemaker_containers import _functions as functions
from sagemaker_containers import _logging as logging
from sagemaker_containers import _mapping as mapping
from sagemaker_containers import _modules as modules
from sagemaker_containers import _mpi as mpi
from sagemaker_containers import _params as params
from sagemaker_containers import _process as process
from sagemaker_containers import _runner as runner
from sagemaker_containers import _server as server
from sagemaker_containers import _trainer as trainer
from sagemaker_containers import _transformer as transformer
from sagemaker_containers import _worker as worker
from sagemaker_containers import entry_point

__all__ = [
    "content_types",
    "encoders",
    "entry_point",
    "env",
    "errors",
    "files",
    "functions",
    "logging",
    "mapping",
    "modules",
    "mpi",
    "params",
    "process",
    "runner",
    "server",
    "trainer",
    "training_env",
    "transformer",
    "worker",
]


def training_env(
    resource_config: dict[str, Any] | None = None,
    input_data_config: dict[str, Any] | None = None,
    hyperparameters: dict[str, Any] | None = None,
) -> Any:
    """The job's training environment, each part read from the job's files unless given."""
    return env.TrainingEnv(
        resource_config=resource_config or env.read_resource_config(),
        input_data_config=input_data_config or env.read_input_data_config(),
        hyperparameters=hyperparameters or env.read_hyperparameters(),
    )
