"""Endpoints deployed as model server processes: an endpoint config's production variants
resolved to their models' containers (or their model packages' first inference container),
each container's model data fetched and a server started for it.

One server stands for each variant, whatever its instance count. A model with several
containers (a serial inference pipeline) is not supported. Images are recognised by
their ECR repository: the SageMaker XGBoost and scikit-learn containers.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends

from mlops_seeds.containment import PathEscape, contained, subfolder
from mlops_seeds.local import images
from mlops_seeds.resource_names import ENDPOINT_NAME, VARIANT_NAME
from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.hosting import artifacts, processes
from mlops_seeds.sandbox.hosting.processes import ModelServer

CONTAINER_MODEL_DIR = "/opt/ml/model"
SUBMIT_DIRECTORY = "SAGEMAKER_SUBMIT_DIRECTORY"
DEFAULT_WEIGHT = 1.0
DRAIN_SECONDS = 60.0

Key = tuple[str, str, str]  # account, region, endpoint name


class DeployError(Exception):
    """An endpoint config that cannot be served; the message is the FailureReason."""


@dataclass(frozen=True)
class ContainerSpec:
    """What a container of a model needs to be served."""

    image: str
    model_data_url: str | None
    compressed: bool
    environment: dict[str, str]
    role_arn: str = ""  # the model's execution role: SageMaker reads model data as it


@dataclass
class Deployment:
    """The model servers of an endpoint, by variant name, with the variants' weights.
    Requests in flight (`serving`) finish before its servers stop, as a fleet taken out of
    service drains."""

    config_name: str
    servers: dict[str, ModelServer]
    weights: dict[str, float] = field(default_factory=dict)
    _inflight: int = 0
    _stopped: bool = False
    _drained: threading.Condition = field(default_factory=threading.Condition)

    @contextmanager
    def serving(self) -> Iterator[bool]:
        """While a request is served by this fleet; yields False when it has stopped."""
        with self._drained:
            open_ = not self._stopped
            if open_:
                self._inflight += 1
        if not open_:
            yield False
            return
        try:
            yield True
        finally:
            with self._drained:
                self._inflight -= 1
                self._drained.notify_all()

    def stop(self) -> None:
        """Stop every server of the endpoint once the requests in flight are answered."""
        with self._drained:
            self._stopped = True
            self._drained.wait_for(lambda: self._inflight == 0, timeout=DRAIN_SECONDS)
        for server in self.servers.values():
            server.stop()


@dataclass
class Shift:
    """A blue/green update in progress: the new (green) fleet, and the share of the
    endpoint's traffic it takes (the old fleet, the endpoint's deployment, takes the rest)."""

    green: Deployment
    share: float = 0.0


_lock = threading.Lock()
_deployments: dict[Key, Deployment] = {}
_shifts: dict[Key, Shift] = {}


def deployment(account: str, region: str, endpoint_name: str) -> Deployment | None:
    """The running deployment of an endpoint (None when it has none)."""
    with _lock:
        return _deployments.get((account, region, endpoint_name))


def replace(key: Key, new: Deployment | None) -> None:
    """Make `new` the endpoint's deployment (None: remove it) and stop the old one."""
    with _lock:
        old = _deployments.pop(key, None)
        if new is not None:
            _deployments[key] = new
    if old is not None:
        old.stop()


def shift(key: Key) -> Shift | None:
    """The endpoint's blue/green update in progress (None when there is none)."""
    with _lock:
        return _shifts.get(key)


def begin_shift(key: Key, green: Deployment) -> Shift:
    """Start sending a share (none yet) of the endpoint's traffic to `green`."""
    with _lock:
        started = _shifts[key] = Shift(green)
        return started


def end_shift(key: Key, promote: bool) -> None:
    """End the endpoint's blue/green update: `promote` makes the green fleet the endpoint's
    deployment (the old one stops), else the green fleet stops (rolled back)."""
    with _lock:
        ended = _shifts.pop(key, None)
    if ended is None:
        return
    if promote:
        replace(key, ended.green)
    else:
        ended.green.stop()


def stop_all() -> None:
    """Stop and forget every deployment (and every fleet of an update in progress)."""
    with _lock:
        old = list(_deployments.values()) + [s.green for s in _shifts.values()]
        _deployments.clear()
        _shifts.clear()
    for item in old:
        item.stop()


def framework_of(image: str) -> str:
    """The server framework standing in for `image`; DeployError for other images."""
    framework = images.SERVING_FRAMEWORKS.get(images.repository(image) or "")
    if framework is None:
        known = ", ".join(sorted(images.SERVING_FRAMEWORKS))
        raise DeployError(
            f"Image {image} cannot be served by the sandbox: it serves the SageMaker "
            f"framework images of the ECR repositories {known}."
        )
    return framework


def package_container(backend: SageMakerModelBackend, name: str) -> dict[str, Any]:
    """The first inference container of a model package (name or ARN, any account)."""
    owner = backend
    if name.startswith("arn:"):
        parts = name.split(":")
        owner = sagemaker_backends[parts[4]][parts[3]]
    try:
        package = owner.describe_model_package(name)
    except ValidationError as err:
        raise DeployError(f"Could not find model package {name}.") from err
    containers = (package.inference_specification or {}).get("Containers") or []
    if not containers:
        raise DeployError(f"Model package {name} has no InferenceSpecification.Containers.")
    return dict(containers[0])


def container_of(backend: SageMakerModelBackend, model_name: str) -> ContainerSpec:
    """The single container of a model, its model package's container filled in."""
    model = backend._models.get(model_name)
    if model is None:
        raise DeployError(f"Could not find model {model_name}.")
    containers = [model.primary_container] if model.primary_container else model.containers
    if len(containers) != 1:
        raise DeployError(
            f"Model {model_name} has {len(containers)} containers; the sandbox serves one."
        )
    container = dict(containers[0])
    environment = dict(container.get("Environment") or {})
    if container.get("ModelPackageName"):
        packaged = package_container(backend, container["ModelPackageName"])
        environment = {**(packaged.get("Environment") or {}), **environment}
        container = {**packaged, **{k: v for k, v in container.items() if k != "Environment"}}
    if not container.get("Image"):
        raise DeployError(f"Model {model_name} has no container image.")
    url, compressed = container.get("ModelDataUrl"), True
    source = (container.get("ModelDataSource") or {}).get("S3DataSource")
    if not url and source:
        url = source.get("S3Uri")
        compressed = source.get("CompressionType", "None") == "Gzip"
    role = str(getattr(model, "execution_role_arn", "") or "")
    return ContainerSpec(str(container["Image"]), url, compressed, environment, role)


def local_environment(
    environment: Mapping[str, str], model_dir: Path, directory: Path, role_arn: str = ""
) -> dict[str, str]:
    """The container Environment with SAGEMAKER_SUBMIT_DIRECTORY made a local directory:
    a path under /opt/ml/model moves under the extracted model, an s3:// source archive
    is fetched and extracted next to it."""
    env = {str(k): str(v) for k, v in environment.items()}
    submit = env.get(SUBMIT_DIRECTORY)
    if not submit:
        return env
    if submit == CONTAINER_MODEL_DIR or submit.startswith(CONTAINER_MODEL_DIR + "/"):
        relative = submit[len(CONTAINER_MODEL_DIR) :].lstrip("/")
        try:
            local = contained(model_dir, relative, what=f"{SUBMIT_DIRECTORY}={submit}")
        except PathEscape as err:
            raise DeployError(f"{err} (under {CONTAINER_MODEL_DIR})") from None
        env[SUBMIT_DIRECTORY] = str(local)
    elif submit.startswith("s3://"):
        code_dir = directory / "code"
        try:
            artifacts.check_access(role_arn, submit, compressed=True)
            artifacts.fetch_model_data(submit, code_dir)
        except artifacts.ModelDataError as err:
            raise DeployError(f"{SUBMIT_DIRECTORY}: {err}") from err
        env[SUBMIT_DIRECTORY] = str(code_dir)
    else:
        raise DeployError(
            f"{SUBMIT_DIRECTORY}={submit}: must be under {CONTAINER_MODEL_DIR} or an s3:// URL."
        )
    return env


def server_directory(backend: SageMakerModelBackend, endpoint_name: str, variant: str) -> Path:
    """A new folder for one variant's server: `endpoints/<account>/<region>/<endpoint>/
    <variant>-<random>` under the sandbox's workdir. The names are checked against the API's
    patterns (CreateEndpoint and CreateEndpointConfig refuse others first) and the folder
    must be exactly that one; DeployError otherwise."""
    for value, rule in ((endpoint_name, ENDPOINT_NAME), (variant, VARIANT_NAME)):
        problem = rule.violation(value)
        if problem is not None:
            raise DeployError(f"{rule.member} {value!r}: {problem}")
    try:
        directory = subfolder(
            runtime.current().workdir / "endpoints",
            backend.account_id,
            backend.region_name,
            endpoint_name,
            f"{variant}-{uuid.uuid4().hex[:8]}",
            what=f"endpoint {endpoint_name!r} variant {variant!r}",
        )
    except PathEscape as err:
        raise DeployError(str(err)) from None
    directory.mkdir(parents=True)
    return directory


def start_variant(
    backend: SageMakerModelBackend, endpoint_name: str, variant: Mapping[str, Any]
) -> ModelServer:
    """Fetch the variant's model data and start its server."""
    name = str(variant["VariantName"])
    spec = container_of(backend, str(variant["ModelName"]))
    framework = framework_of(spec.image)
    directory = server_directory(backend, endpoint_name, name)
    model_dir = directory / "model"
    model_dir.mkdir()
    try:
        if spec.model_data_url:
            artifacts.check_access(spec.role_arn, spec.model_data_url, spec.compressed)
            artifacts.fetch_model_data(spec.model_data_url, model_dir, spec.compressed)
        env = local_environment(spec.environment, model_dir, directory, spec.role_arn)
    except artifacts.ModelDataError as err:
        raise DeployError(str(err)) from err
    try:
        return processes.start(framework, model_dir, directory, env)
    except processes.StartFailed as err:
        raise DeployError(
            f"The primary container for production variant {name} did not pass the ping "
            f"health check: {err}"
        ) from err


def deploy(backend: SageMakerModelBackend, endpoint_name: str, config_name: str) -> Deployment:
    """Start a server per production variant of the config; DeployError (nothing left
    running) when one cannot be served."""
    config = backend.endpoint_configs.get(config_name)
    if config is None:
        raise DeployError(f"Could not find endpoint configuration {config_name}.")
    started = Deployment(config_name, {})
    try:
        for variant in config.production_variants:
            name = str(variant["VariantName"])
            started.servers[name] = start_variant(backend, endpoint_name, variant)
            weight = variant.get("InitialVariantWeight")
            started.weights[name] = DEFAULT_WEIGHT if weight is None else float(weight)
    except DeployError:
        started.stop()
        raise
    return started
