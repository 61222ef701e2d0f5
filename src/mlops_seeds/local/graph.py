"""Which step waits for which: `DependsOn`, the steps a step's expressions read from, and,
for steps in a condition's branches, the condition step. Checked before anything runs."""

from __future__ import annotations

from typing import Any

from mlops_seeds.local.definition import Definition, DefinitionError, StepDef
from mlops_seeds.local.expressions import ExpressionError, references


def expression_source(step: StepDef) -> Any:
    """The part of a step whose expressions it evaluates itself (a condition step does not
    evaluate the arguments of its branch steps)."""
    if step.type == "Condition":
        return step.arguments.get("Conditions", [])
    return step.arguments


def dependencies(definition: Definition) -> dict[str, set[str]]:
    """Step name -> names of the steps it waits for; every name and `Get` checked."""
    graph: dict[str, set[str]] = {}
    for step in definition.steps.values():
        needs = set(step.depends_on)
        try:
            refs = list(references(expression_source(step)))
        except ExpressionError as err:
            raise DefinitionError(f"step {step.name}: {err}") from None
        for ref in refs:
            if ref.root == "Parameters" and ref.name not in definition.parameters:
                raise DefinitionError(f"step {step.name}: Get {ref}: no such parameter")
            if ref.root == "Steps":
                needs.add(ref.name)
        if step.branch:
            needs.add(step.branch.condition)
        for name in sorted(needs):
            if name not in definition.steps:
                raise DefinitionError(f"step {step.name}: refers to unknown step {name}")
            if name == step.name:
                raise DefinitionError(f"step {step.name}: depends on itself")
        graph[step.name] = needs
    topological_order(graph)
    return graph


def topological_order(graph: dict[str, set[str]]) -> list[str]:
    """The steps, each after everything it waits for (definition order among equals)."""
    order: list[str] = []
    done: set[str] = set()
    pending = list(graph)
    while pending:
        ready = [name for name in pending if graph[name] <= done]
        if not ready:
            raise DefinitionError(f"steps depend on each other in a cycle: {', '.join(pending)}")
        order.extend(ready)
        done.update(ready)
        pending = [name for name in pending if name not in done]
    return order
