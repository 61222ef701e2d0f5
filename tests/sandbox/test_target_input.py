"""What an EventBridge target receives (Input, InputPath, InputTransformer) and what PutTargets
refuses of them. Expected outputs are the User Guide's examples ("Amazon EventBridge input
transformation") and responses LocalStack recorded from AWS (its test_events_inputs
snapshot), where the guide is silent."""

import json
from datetime import datetime
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from event_topics import topic_eventbridge_may_publish_to
from moto.sns.models import sns_backends

from mlops_seeds import aws
from mlops_seeds.sandbox import event_targets
from mlops_seeds.sandbox.target_input import TargetInputError, check, payload

HUB = "123456789012"
RULE = "arn:aws:events:us-east-1:123456789012:rule/example"
INGESTION = datetime(2026, 12, 3, 10, 0, 5)
EC2_EVENT = {  # the guide's example event
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
EC2_PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}
COMMAND_EVENT = {  # the event of the recorded responses
    "version": "0",
    "id": "00000000-0000-0000-0000-000000000000",
    "detail-type": "core.update-account-command",
    "source": "core.update-account-command",
    "account": "111111111111",
    "time": "date",
    "region": "us-east-1",
    "resources": [],
    "detail": {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}},
}


def _transformed(template: str, paths: dict[str, str], event: dict[str, Any]) -> str:
    target = {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}}
    return payload(target, event, RULE, INGESTION)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
        (
            '{"instance" : <instance>, "state": <state>}',
            '{"instance" : "i-0123456789", "state": "RUNNING"}',
        ),
        (
            '{"state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}',
            '{"state": "RUNNING", "instanceStatus": "instance \\"i-0123456789\\" is in RUNNING"}',
        ),
        (
            '{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
            '{"instance" : "i-0123456789", "state": [ 9, "RUNNING", true ], "Transformed" : "Yes"}',
        ),
        ('"<aws.events.rule-name> triggered"', '"example triggered"'),
        (
            '{"ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>}',
            f'{{"ruleArn" : "{RULE}", "ruleName" : "example"}}',
        ),
    ],
)
def test_the_guides_templates_give_its_outputs(template: str, expected: str) -> None:
    assert _transformed(template, EC2_PATHS, EC2_EVENT) == expected


def test_a_path_the_event_lacks_gives_an_empty_string_as_recorded_from_aws() -> None:
    template = (
        '"Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>"'
    )
    paths = {"detail-type": "$.detail-type", "timestamp": "$.time", "command": "$.detail.command"}
    assert _transformed(template, paths, COMMAND_EVENT) == (
        '"Event of core.update-account-command type, at time date, info extracted from detail '
        'update-account"'
    )
    missing = paths | {"command": "$.detail.notinmessage"}
    assert _transformed(template, missing, COMMAND_EVENT) == (
        '"Event of core.update-account-command type, at time date, info extracted from detail "'
    )


def test_the_predefined_event_variables_as_recorded_from_aws() -> None:
    template = '{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}'
    delivered = json.loads(_transformed(template, {}, COMMAND_EVENT))
    assert delivered["originalEventJson"] == COMMAND_EVENT
    assert delivered["originalEvent"] == {  # no detail; detailType; the ingestion time
        "version": "0",
        "id": COMMAND_EVENT["id"],
        "detailType": "core.update-account-command",
        "source": "core.update-account-command",
        "account": "111111111111",
        "time": "2026-12-03T10:00:05Z",
        "region": "us-east-1",
        "resources": [],
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.detail", COMMAND_EVENT["detail"]),
        ("$.detail.payload", {"acc_id": "0a787ecb-4015", "sf_id": "baz"}),
        ("$.detail.payload.sf_id", "baz"),  # delivered as "baz", quoted (recorded from AWS)
        ("$.resources", []),
        ("$", COMMAND_EVENT),
    ],
)
def test_an_input_path_delivers_that_part_of_the_event(path: str, expected: Any) -> None:
    delivered = payload({"InputPath": path}, COMMAND_EVENT, RULE, INGESTION)
    assert json.loads(delivered) == expected


def test_input_is_delivered_as_given_and_nothing_asked_is_the_event() -> None:
    assert (
        payload({"Input": '{"run": "nightly"}'}, EC2_EVENT, RULE, INGESTION) == '{"run": "nightly"}'
    )
    assert json.loads(payload({}, EC2_EVENT, RULE, INGESTION)) == EC2_EVENT


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            {"Id": "t1", "Input": "{}", "InputPath": "$.detail"},
            "Only one of Input, InputPath, or InputTransformer must be provided for target t1.",
        ),
        (
            {"Id": "t1", "InputTransformer": {"InputTemplate": '"<notdefinedkey>"'}},
            "InputTemplate for target t1 contains invalid placeholder notdefinedkey.",
        ),
        (
            {
                "Id": "t1",
                "InputTransformer": {"InputPathsMap": {"k": "$.a"}, "InputTemplate": "{<k>: 1}"},
            },
            "InputTemplate for target t1 uses placeholder k as an object key.",
        ),
        (
            {
                "Id": "t1",
                "InputTransformer": {"InputPathsMap": {"a.b": "$.a"}, "InputTemplate": '"x"'},
            },
            "InputPathsMap key 'a.b' for target t1: 1 to 256 letters, digits, _ and -.",
        ),
        (
            {
                "Id": "t1",
                "InputTransformer": {
                    "InputPathsMap": {f"k{i}": "$.a" for i in range(101)},
                    "InputTemplate": '"x"',
                },
            },
            "InputPathsMap for target t1 has 101 entries; at most 100.",
        ),
    ],
)
def test_put_targets_refusals(target: dict[str, Any], message: str) -> None:
    with pytest.raises(TargetInputError) as caught:
        check(target)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("transformer", "message"),
    [
        ({"InputPathsMap": {"k": "$.a"}}, "InputTemplate for target t1: required"),
        ({"InputTemplate": ""}, "InputTemplate for target t1: required"),
        ({"InputTemplate": '"' + "x" * 8192 + '"'}, "a string of 1 to 8192"),
        (  # quoted, a key all the same
            {"InputPathsMap": {"k": "$.a"}, "InputTemplate": '{"<k>": 1}'},
            "uses placeholder k as an object key",
        ),
    ],
)
def test_a_template_it_cannot_use_is_refused(transformer: dict[str, Any], message: str) -> None:
    with pytest.raises(TargetInputError, match=message):
        check({"Id": "t1", "InputTransformer": transformer})


def test_input_must_be_a_short_enough_string() -> None:
    with pytest.raises(TargetInputError, match="Input for target t1: a string of at most 8192"):
        check({"Id": "t1", "Input": {"a": 1}})  # as a YAML mapping would give it
    with pytest.raises(TargetInputError, match="InputPath for target t1: a string of at most 256"):
        check({"Id": "t1", "InputPath": "$." + "a" * 300})


def test_what_is_no_placeholder_and_escapes_are_left_alone() -> None:
    paths = {"state": "$.detail.state"}
    # comparison signs across strings name no placeholder
    check(
        {
            "Id": "t1",
            "InputTransformer": {
                "InputPathsMap": paths,
                "InputTemplate": ('{"cmp": "a < b", "op": "c > d", "s": <state>}'),
            },
        }
    )
    # an escaped character does not end the string early: <state> is still outside it
    template = '{"note": "say \\"hi\\"", "s": <state>}'
    assert json.loads(_transformed(template, paths, EC2_EVENT)) == {
        "note": 'say "hi"',
        "s": "RUNNING",
    }


def test_input_that_is_not_json_is_refused_naming_the_target() -> None:
    with pytest.raises(TargetInputError, match=r"^JSON syntax error in input for target t1: "):
        check({"Id": "t1", "Input": "env:dev"})


def test_what_put_targets_may_take() -> None:
    check({"Id": "t1", "Input": '{"env": "dev"}'})
    check({"Id": "t1", "InputPath": "$.detail"})
    check(
        {
            "Id": "t1",
            "InputTransformer": {
                "InputPathsMap": {"state": "$.detail.state"},
                "InputTemplate": '{"k": [<state>, "<state>"], "rule": <aws.events.rule-name>}',
            },
        }
    )


def test_put_targets_answers_with_the_refusal(hub: boto3.Session) -> None:
    events = aws.client("events", hub)
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.ec2"]}))
    target = {
        "Id": "t1",
        "Arn": "arn:aws:sns:us-east-1:123456789012:t",
        "Input": "{}",
        "InputPath": "$",
    }
    with pytest.raises(ClientError) as caught:
        events.put_targets(Rule="r", Targets=[target])
    assert caught.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": (
            "Only one of Input, InputPath, or InputTransformer must be provided for target t1."
        ),
    }
    assert events.list_targets_by_rule(Rule="r")["Targets"] == []


def test_a_stack_whose_template_names_an_unmapped_placeholder_fails(hub: boto3.Session) -> None:
    rule = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "EventPattern": {"source": ["aws.sagemaker"]},
            "Targets": [
                {
                    "Id": "Notify",
                    "Arn": "arn:aws:sns:us-east-1:123456789012:t",
                    "InputTransformer": {
                        "InputPathsMap": {"status": "$.detail.currentPipelineExecutionStatus"},
                        "InputTemplate": '"Pipeline <pipeline> is <status>"',
                    },
                }
            ],
        },
    }
    cloudformation = aws.client("cloudformation", hub)
    cloudformation.create_stack(
        StackName="notify", TemplateBody=yaml.safe_dump({"Resources": {"Rule": rule}})
    )
    events = cloudformation.describe_stack_events(StackName="notify")["StackEvents"]
    (failed,) = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert (
        "InputTemplate for target Notify contains invalid placeholder pipeline."
        in (failed["ResourceStatusReason"])
    )


def test_a_topic_is_told_what_the_transformer_makes(hub: boto3.Session) -> None:
    topic = topic_eventbridge_may_publish_to(hub, "news")
    settings = {
        "InputTransformer": {
            "InputPathsMap": EC2_PATHS,
            "InputTemplate": '"instance <instance> is in <state>"',
        }
    }
    event_targets.publish(RULE, topic, EC2_EVENT, settings)
    sent = [m for _, m, *_ in sns_backends[HUB]["us-east-1"].topics[topic].sent_notifications]
    assert sent == ['"instance i-0123456789 is in RUNNING"']
