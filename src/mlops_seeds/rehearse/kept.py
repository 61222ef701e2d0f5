"""What a kept rehearsal (`--keep`) does by itself while it waits for Ctrl-C, as AWS would
without anyone calling it: EventBridge runs the scheduled rules of the project's accounts
(the monitoring check's schedule among them) and CloudWatch sends its alarms' changes of
state to EventBridge, whose rules start pipelines (retraining) and notify topics.

A scheduled rule runs when its expression says on the sandbox clock (sandbox/schedules.py);
a rate counts from when the session first saw the rule (the rule's creation time is not
kept). Each target is delivered as EventBridge delivers it: a SageMaker pipeline started as
the target's role, a CodePipeline run as the target's role (walked here, as the rehearsal
walks it), an SNS topic published to for the rule. A delivery AWS would refuse (a role
EventBridge may not assume or that may not start the pipeline, a topic policy that does not
admit it) is said, and lost, as on AWS. Targets of other services are said and not played.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from mlops_seeds import aws
from mlops_seeds.errors import SeedsError
from mlops_seeds.rehearse import events
from mlops_seeds.rehearse.runs import PipelineRuns
from mlops_seeds.sandbox import event_targets, runtime, schedules
from mlops_seeds.sandbox.iam import acting

TICK = 1.0  # wall-clock seconds between looks at the rules and the alarms
MAX_MISSED = 1000  # runs of a schedule counted as missed, at most, after a long tick
SCHEDULED = "Scheduled Event"


@dataclass
class _Rule:
    """A scheduled rule as last seen, and when it runs next (None: never again)."""

    arn: str
    expression: str
    schedule: schedules.Schedule
    seen: datetime
    next: datetime | None


@dataclass
class KeptSession:
    """The scheduled rules and alarms of the accounts of `runs` (its spoke and the accounts
    serving its stages), played at the times `tick` is given."""

    runs: PipelineRuns
    echo: Callable[[str], None]
    rules: dict[tuple[str, str], _Rule] = field(default_factory=dict)  # (account, name)
    alarms: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def accounts(self) -> dict[str, boto3.Session]:
        """account id -> an admin session there, the spoke's first (asked once)."""
        return self.runs.account_sessions()

    def tick(self, now: datetime) -> None:
        """Run the rules due by `now`, then send the alarms' changes of state."""
        for account, session in self.accounts().items():
            self._look_at_rules(account, session, now)
        for key, rule in sorted(self.rules.items()):
            if rule.next is not None and rule.next <= now:
                self._run(key[0], key[1], rule, rule.next)
                self._skip_missed(key[1], rule, now)
        for account, session in self.accounts().items():
            self._look_at_alarms(account, session)
        self.runs.run_pending()

    def _look_at_rules(self, account: str, session: boto3.Session, now: datetime) -> None:
        current = {}
        for rule in _scheduled_rules(aws.client("events", session)):
            key = (account, str(rule["Name"]))
            expression = str(rule["ScheduleExpression"])
            known = self.rules.get(key)
            if known is not None and known.expression == expression:
                current[key] = known
                continue
            schedule = schedules.parse(expression)
            current[key] = _Rule(str(rule["Arn"]), expression, schedule, now, None)
            current[key].next = schedule.next_after(now, now)
            self.echo(f"schedule {rule['Name']} ({expression}): next at {current[key].next}")
        for key in [k for k in self.rules if k[0] == account]:
            self.rules.pop(key)
        self.rules.update(current)

    def _skip_missed(self, name: str, rule: _Rule, now: datetime) -> None:
        """Move the rule's next run past `now`, saying how many runs the session missed
        while a tick took longer than the schedule's period (a pipeline walked meanwhile)."""
        missed = 0
        assert rule.next is not None
        following = rule.schedule.next_after(rule.next, rule.seen)
        while following is not None and following <= now and missed < MAX_MISSED:
            missed += 1
            following = rule.schedule.next_after(following, rule.seen)
        if missed:
            more = "+" if missed == MAX_MISSED else ""
            self.echo(f"schedule {name}: {missed}{more} runs missed while the session was busy")
        rule.next = rule.schedule.next_after(now, rule.seen)

    def _run(self, account: str, name: str, rule: _Rule, when: datetime) -> None:
        """Deliver the rule's scheduled event of `when` to each of its targets."""
        session = self.accounts()[account]
        targets = _targets(aws.client("events", session), name)
        self.echo(f"schedule {name} runs at {when:%Y-%m-%d %H:%M:%S} ({len(targets)} targets)")
        event = scheduled_event(rule.arn, when)
        for target in targets:
            found = events.Target(
                name,
                str(target["Id"]),
                str(target["Arn"]),
                target.get("RoleArn", ""),
                rule.arn,
                events.input_settings(target),
            )
            self._deliver(found, event)

    def _deliver(self, target: events.Target, event: dict[str, Any]) -> None:
        """Deliver `event` to `target` as EventBridge does; a refusal is said and kept in
        the refusals."""
        where = f"rule {target.rule} could not deliver to {target.resource}"
        try:
            if target.service == "sagemaker" and target.resource.startswith("pipeline/"):
                self.runs.start_sagemaker_pipeline(target)
            elif target.service == "codepipeline":
                if _place(target.arn) != _place(target.rule_arn):
                    raise SeedsError(f"{target.arn} is not in the rule's account and region")
                if _place(target.arn)[1] != self.spoke:
                    raise SeedsError("the sandbox walks the spoke's pipelines only")
                self.runs.pending.append((target, f"schedule {target.rule}"))
            elif target.service == "sns":
                message = event_targets.publish(target.rule_arn, target.arn, event, target.settings)
                self.echo(f"notified {target.resource} ({message})")
            else:
                self.echo(f"{where}: the sandbox does not play {target.service} targets")
        except (SeedsError, acting.AccessDenied, ClientError) as err:
            self.runs.refusals.append(f"{where}: {getattr(err, 'message', None) or err}")
            self.echo(self.runs.refusals[-1])

    def _look_at_alarms(self, account: str, session: boto3.Session) -> None:
        cloudwatch = aws.client("cloudwatch", session)
        for alarm in _metric_alarms(cloudwatch):
            key = (account, str(alarm["AlarmName"]))
            before = self.alarms.get(key)
            self.alarms[key] = alarm
            if before is not None and before["StateValue"] != alarm["StateValue"]:
                self.echo(
                    f"alarm {alarm['AlarmName']}: {before['StateValue']} -> {alarm['StateValue']}"
                )
                # on its own account's bus, whose rules may send it on to the spoke's
                self.runs.alarm_changed(alarm, before)

    @property
    def spoke(self) -> str:
        """The account whose pipelines `runs` walks (its session's)."""
        return self.runs.spoke

    def play(self, stop: threading.Event) -> None:
        """Tick every TICK seconds until `stop` is set; a tick that fails is said and the
        next one tried."""
        clock = runtime.clock()
        while not stop.is_set():
            try:
                self.tick(clock.now())
            except Exception as err:  # a serving loop: any failure is said, and it goes on
                self.echo(f"kept session: {type(err).__name__}: {err}")
            stop.wait(TICK)


def scheduled_event(rule_arn: str, when: datetime) -> dict[str, Any]:
    """The event a scheduled rule sends its targets (EventBridge User Guide, "Scheduled
    Event")."""
    _, _, _, region, account, _ = rule_arn.split(":", 5)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": SCHEDULED,
        "source": "aws.events",
        "account": account,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def _place(arn: str) -> tuple[str, str]:
    """An ARN's region and account."""
    parts = arn.split(":")
    return (parts[3], parts[4]) if len(parts) > 4 else ("", "")


def _scheduled_rules(client: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("list_rules").paginate(EventBusName="default"):
        found += [
            r
            for r in page.get("Rules") or []
            if r.get("ScheduleExpression") and r.get("State") == "ENABLED"
        ]
    return found


def _targets(client: Any, rule: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("list_targets_by_rule").paginate(Rule=rule):
        found += page.get("Targets") or []
    return found


def _metric_alarms(client: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
        found += page.get("MetricAlarms") or []
    return found
