"""Condition and Fail steps."""

from __future__ import annotations

from mlops_seeds.local import conditions
from mlops_seeds.local.context import StepContext, StepFailed, StepResult
from mlops_seeds.local.expressions import as_text


def condition(ctx: StepContext) -> StepResult:
    """Evaluate the conditions (all must hold); the outcome picks IfSteps or ElseSteps."""
    outcome = conditions.all_true(ctx.step.arguments.get("Conditions") or [], ctx.scope)
    return StepResult(properties={"Outcome": str(outcome)}, outcome=outcome)


def fail(ctx: StepContext) -> StepResult:
    """Stop the execution with the step's (evaluated) error message."""
    message = ctx.evaluate(ctx.step.arguments.get("ErrorMessage", ""))
    raise StepFailed(as_text(message) or f"{ctx.step.name} was reached")
