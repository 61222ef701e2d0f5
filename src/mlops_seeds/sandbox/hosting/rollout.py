"""UpdateEndpoint with a DeploymentConfig: SageMaker's deployment guardrails, blue/green
with traffic shifting, baking periods and automatic rollback on CloudWatch alarms.

From the SageMaker Developer Guide ("Deployment guardrails", "Blue/Green Deployments",
"Canary Traffic Shifting", "Linear Traffic Shifting", "Auto-Rollback Configuration and
Monitoring") and the API reference's DeploymentConfig shapes:

- The new (green) fleet is provisioned beside the old (blue) one; the endpoint is
  Updating and UpdateEndpoint returns at once.
- Traffic shifts in steps: ALL_AT_ONCE one step; CANARY the canary (CanarySize: at most
  50% of the variant's instances) then the rest; LINEAR steps of LinearStepSize (10-50%).
  Each step is followed by a baking period of WaitIntervalInSeconds during which the
  AutoRollbackConfiguration alarms are watched; the last is the final baking period.
- An alarm in ALARM during a baking period rolls the update back: all traffic returns to
  the blue fleet, the green one is terminated, the endpoint is InService on its old config
  with a FailureReason. So does a deployment running past MaximumExecutionTimeoutInSeconds.
- Otherwise the blue fleet is terminated TerminationWaitInSeconds after the final baking
  period and the endpoint is InService on the new config.
- SageMaker reads the alarms as the models' execution role: it needs cloudwatch:DescribeAlarms
  on them (checked when IAM is enforced, at UpdateEndpoint; the Guide states the need, not
  when it is checked). An alarm that does not exist is refused at UpdateEndpoint too.

Times are the sandbox clock's (clock.py). RollingUpdatePolicy is refused: the sandbox does
not emulate rolling deployments.
"""

from __future__ import annotations

import datetime
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend

from mlops_seeds.sandbox import runtime
from mlops_seeds.sandbox.cloudwatch import alarms as cloudwatch_alarms
from mlops_seeds.sandbox.cloudwatch.evaluation import ALARM
from mlops_seeds.sandbox.hosting import endpoints
from mlops_seeds.sandbox.iam import acting
from mlops_seeds.sandbox.iam.principals import SAGEMAKER

WAIT_RANGE = (0, 3600)
TIMEOUT_RANGE = (600, 28800)
DEFAULT_TIMEOUT = 28800
CHECK_EVERY = 0.2  # wall-clock seconds between alarm checks during a baking period
_EPOCH = datetime.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Plan:
    """A blue/green update: the traffic share of each step, the waits, the alarms."""

    kind: str
    shares: tuple[float, ...]
    wait: int
    termination_wait: int
    timeout: int
    alarms: tuple[str, ...] = ()


def _bad(message: str) -> ValidationError:
    return ValidationError(message=message)


def _ranged(value: Any, bounds: tuple[int, int], member: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not bounds[0] <= value <= bounds[1]:
        raise _bad(f"{member} {value!r} must be an integer from {bounds[0]} to {bounds[1]}.")
    return value


def _step(size: Any, member: str, instances: int, bounds: tuple[int, int]) -> float:
    """The share of traffic a CapacitySize turns on, within `bounds` percent of the
    variant's instances."""
    if not isinstance(size, Mapping) or size.get("Type") not in (
        "INSTANCE_COUNT",
        "CAPACITY_PERCENT",
    ):
        raise _bad(f"{member} must have Type INSTANCE_COUNT or CAPACITY_PERCENT and a Value.")
    value = size.get("Value")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _bad(f"{member}.Value {value!r} must be an integer of at least 1.")
    percent = value if size["Type"] == "CAPACITY_PERCENT" else 100.0 * value / instances
    if not bounds[0] <= percent <= bounds[1]:
        raise _bad(
            f"{member} {size['Type']} {value} is {percent:g}% of the variant's {instances} "
            f"instance(s): it must be from {bounds[0]}% to {bounds[1]}%."
        )
    return percent / 100.0


def plan(config: Mapping[str, Any] | None, instances: int) -> Plan | None:
    """The update a DeploymentConfig asks for (None: no blue/green policy, the sandbox
    switches fleets at once); ValidationError for a config the API refuses."""
    if not config:
        return None
    blue_green, rolling = config.get("BlueGreenUpdatePolicy"), config.get("RollingUpdatePolicy")
    if blue_green and rolling:
        raise _bad("Only one update policy should be used in the deployment configuration.")
    if rolling:
        raise _bad(
            "RollingUpdatePolicy is not emulated by the sandbox: use a BlueGreenUpdatePolicy "
            "(ALL_AT_ONCE, CANARY or LINEAR)."
        )
    names = _alarm_names(config.get("AutoRollbackConfiguration"))
    if not blue_green:
        return None
    routing = blue_green.get("TrafficRoutingConfiguration")
    if not isinstance(routing, Mapping):
        raise _bad("BlueGreenUpdatePolicy.TrafficRoutingConfiguration is required.")
    kind = routing.get("Type")
    wait = _ranged(routing.get("WaitIntervalInSeconds"), WAIT_RANGE, "WaitIntervalInSeconds")
    if kind == "ALL_AT_ONCE":
        shares: tuple[float, ...] = (1.0,)
    elif kind == "CANARY":
        if "CanarySize" not in routing:
            raise _bad("TrafficRoutingConfiguration.CanarySize is required for CANARY.")
        shares = (_step(routing["CanarySize"], "CanarySize", instances, (0, 50)), 1.0)
    elif kind == "LINEAR":
        if "LinearStepSize" not in routing:
            raise _bad("TrafficRoutingConfiguration.LinearStepSize is required for LINEAR.")
        step = _step(routing["LinearStepSize"], "LinearStepSize", instances, (10, 50))
        count = math.ceil(1.0 / step - 1e-9)
        shares = tuple(min(1.0, step * (i + 1)) for i in range(count))
    else:
        raise _bad(
            f"TrafficRoutingConfiguration.Type {kind!r} must be ALL_AT_ONCE, CANARY or LINEAR."
        )
    termination = _ranged(
        blue_green.get("TerminationWaitInSeconds", 0), WAIT_RANGE, "TerminationWaitInSeconds"
    )
    timeout = _ranged(
        blue_green.get("MaximumExecutionTimeoutInSeconds", DEFAULT_TIMEOUT),
        TIMEOUT_RANGE,
        "MaximumExecutionTimeoutInSeconds",
    )
    return Plan(str(kind), shares, wait, termination, timeout, names)


def _alarm_names(rollback: Any) -> tuple[str, ...]:
    if rollback is None:
        return ()
    alarms = rollback.get("Alarms") if isinstance(rollback, Mapping) else None
    if not isinstance(alarms, list) or not 1 <= len(alarms) <= 10:
        raise _bad("AutoRollbackConfiguration.Alarms must list from 1 to 10 alarms.")
    names = []
    for item in alarms:
        name = item.get("AlarmName") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise _bad(f"AutoRollbackConfiguration alarm {item!r} needs an AlarmName (1-255).")
        names.append(name)
    return tuple(names)


def check_alarms(backend: SageMakerModelBackend, roles: list[str], names: tuple[str, ...]) -> None:
    """ValidationError unless every alarm exists in the endpoint's account and region and
    each model execution role may describe them (when IAM is enforced)."""
    found = cloudwatch_backends[backend.account_id][backend.region_name].alarms
    missing = [n for n in names if n not in found]
    if missing:
        raise _bad(
            f"The CloudWatch alarm(s) {', '.join(missing)} of AutoRollbackConfiguration do not "
            f"exist in account {backend.account_id}, region {backend.region_name}."
        )
    sandbox = runtime.current()
    if not names or not sandbox.enforcing:
        return
    for role in sorted(set(roles)):
        try:
            identity = acting.identity_as_service(SAGEMAKER, role, "SageMaker", sandbox.region)
            acting.authorize(
                identity,
                "cloudwatch",
                "DescribeAlarms",
                {"AlarmNames": list(names)},
                sandbox.region,
            )
        except acting.AccessDenied as err:
            raise _bad(
                f"SageMaker cannot read the auto-rollback alarms as the model's execution "
                f"role: {err.message}"
            ) from err


@dataclass
class Update:
    """A blue/green update running in its thread."""

    key: endpoints.Key
    thread: threading.Thread
    stop: threading.Event


_lock = threading.Lock()
_running: dict[endpoints.Key, Update] = {}
_starts: dict[endpoints.Key, threading.Lock] = {}


def in_progress(key: endpoints.Key) -> bool:
    """Whether the endpoint has a blue/green update running."""
    with _lock:
        update = _running.get(key)
    return update is not None and update.thread.is_alive()


def wait(key: endpoints.Key, timeout: float | None = None) -> None:
    """Wait for the endpoint's update (if any) to finish."""
    with _lock:
        update = _running.get(key)
    if update is not None:
        update.thread.join(timeout)


def cancel(key: endpoints.Key) -> None:
    """Stop the endpoint's update, if one runs (the endpoint is deleted); its new fleet
    drains and stops."""
    with _lock:
        update = _running.pop(key, None)
    if update is not None:
        update.stop.set()
        update.thread.join(endpoints.DRAIN_SECONDS + 5)


def starting(key: endpoints.Key) -> threading.Lock:
    """The lock an UpdateEndpoint holds from its state check to its start (the sandbox
    serves requests in threads: two updates must not both start)."""
    with _lock:
        return _starts.setdefault(key, threading.Lock())


def stop_all() -> None:
    """Stop every running update (the sandbox stops): they end where they are."""
    with _lock:
        updates = list(_running.values())
        _running.clear()
    for update in updates:
        update.stop.set()
    for update in updates:
        update.thread.join(5)


Finish = Callable[[bool, str | None], None]


def start(key: endpoints.Key, green: endpoints.Deployment, steps: Plan, finish: Finish) -> None:
    """Shift traffic to `green` by `steps` in a thread; `finish(promoted, failure_reason)`
    is called at the end (after the fleets are switched or rolled back)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_run, args=(key, green, steps, finish, stop), name=f"rollout-{key[2]}", daemon=True
    )
    with _lock:
        _running[key] = Update(key, thread, stop)
    thread.start()


def _tripped(key: endpoints.Key, names: tuple[str, ...]) -> str | None:
    account, region, _ = key
    for name in names:
        if cloudwatch_alarms.state_of(account, region, name) == ALARM:
            return name
    return None


def _seconds() -> float:
    """The sandbox clock's time in seconds (naive UTC: not read as local time)."""
    return (runtime.clock().now() - _EPOCH).total_seconds()


def _bake(
    key: endpoints.Key, steps: Plan, stop: threading.Event, deadline: float
) -> tuple[str | None, bool]:
    """Watch the alarms for a baking period: (the alarm that tripped, whether the
    deployment ran out of time)."""
    clock = runtime.clock()
    end = _seconds() + steps.wait
    while True:
        tripped = _tripped(key, steps.alarms)
        now = _seconds()
        if tripped or now >= end:
            return tripped, False
        if now >= deadline:
            return None, True
        if stop.wait(min(CHECK_EVERY, clock.real_seconds(end - now))):
            return None, False


def _run(
    key: endpoints.Key,
    green: endpoints.Deployment,
    steps: Plan,
    finish: Finish,
    stop: threading.Event,
) -> None:
    clock = runtime.clock()
    deadline = _seconds() + steps.timeout
    shift = endpoints.begin_shift(key, green)
    try:
        for number, share in enumerate(steps.shares, start=1):
            shift.share = share
            tripped, late = _bake(key, steps, stop, deadline)
            if stop.is_set():
                endpoints.end_shift(key, promote=False)
                return
            if tripped or late:
                endpoints.end_shift(key, promote=False)
                what = (
                    "the final baking period"
                    if number == len(steps.shares)
                    else (f"the baking period of traffic step {number} of {len(steps.shares)}")
                )
                cause = (
                    f"CloudWatch alarm {tripped} went into ALARM during {what} "
                    f"({share:.0%} of traffic on the new fleet)"
                    if tripped
                    else f"the deployment exceeded MaximumExecutionTimeoutInSeconds "
                    f"({steps.timeout})"
                )
                finish(
                    False,
                    f"Deployment of endpoint config {green.config_name} was rolled "
                    f"back: {cause}. All traffic returned to the previous fleet.",
                )
                return
        if clock.sleep(steps.termination_wait, stop) or stop.is_set():
            endpoints.end_shift(key, promote=False)
            return
        endpoints.end_shift(key, promote=True)
        finish(True, None)
    except Exception as err:  # the update must end, whatever broke
        endpoints.end_shift(key, promote=False)
        finish(False, f"Deployment of endpoint config {green.config_name} failed: {err}")
    finally:
        with _lock:
            if _running.get(key) is not None and _running[key].thread is threading.current_thread():
                del _running[key]
