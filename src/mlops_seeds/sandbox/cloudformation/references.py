"""Which resources of a template a resource refers to (Ref, Fn::GetAtt, Fn::Sub, DependsOn),
and the order that puts every resource after the ones it refers to."""

import re
from collections.abc import Iterable
from typing import Any

_SUB = re.compile(r"\$\{([^!}][^}]*)\}")


def references(node: Any) -> set[str]:
    """Logical ids (and pseudo parameters) that `node` names through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value.split(".")[0] if isinstance(value, str) else value[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
                names = {m.split(".")[0] for m in _SUB.findall(text)}
                found |= names - set(variables) | references(variables)
            else:
                found |= references(value)
    return found


def dependencies(resource: dict[str, Any]) -> set[str]:
    """What a template's resource entry depends on: its references and DependsOn."""
    depends = resource.get("DependsOn") or []
    return references(resource) | set([depends] if isinstance(depends, str) else depends)


def ordered(names: Iterable[str], resources: dict[str, Any]) -> list[str]:
    """`names` with every one after those of `names` it depends on (template order else)."""
    wanted = [n for n in resources if n in set(names)]
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path:
            return
        for dependency in sorted(dependencies(resources[name]) & set(wanted)):
            visit(dependency, (*path, name))
        done.append(name)

    for name in wanted:
        visit(name, ())
    return done


def dependents(changed: set[str], resources: dict[str, Any], among: set[str]) -> set[str]:
    """The resources of `among` that depend, directly or not, on one of `changed`."""
    reached = set(changed)
    grew = True
    while grew:
        grew = False
        for name in among - reached:
            if dependencies(resources[name]) & reached:
                reached.add(name)
                grew = True
    return reached - set(changed)
