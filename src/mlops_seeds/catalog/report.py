"""Terminal output of plan and publish: a table, progress lines and a summary."""

from rich.console import Console
from rich.table import Table

from mlops_seeds.catalog.actions import Action
from mlops_seeds.catalog.products import RETIRE
from mlops_seeds.catalog.publishing import Summary


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_plan(actions: list[Action]) -> None:
    """The plan as a table, or a line saying there is nothing to do."""
    console = _console()
    if not actions:
        console.print("Nothing to do: the accounts match the manifest.")
        return
    table = Table("#", "action", "account", "resource", "detail", title="publish would")
    for number, action in enumerate(actions, 1):
        table.add_row(str(number), action.verb, action.account, action.resource, action.detail)
    console.print(table)
    console.print(f"{len(actions)} action(s).")
    retire = sum(1 for a in actions if a.verb == RETIRE)
    if retire:
        console.print(
            f"{retire} retire action(s): publish runs them only with --retire.", markup=False
        )


def progress(number: int, total: int, action: Action) -> None:
    """One line per action as publish runs it."""
    _console(stderr=True).print(
        f"[{number}/{total}] {action.verb} {action.resource} ({action.account}): {action.detail}",
        markup=False,
    )


def print_summary(summary: Summary) -> None:
    """What publish did and the API calls it made."""
    console = _console()
    if not summary.actions and not summary.left:
        console.print("Nothing to do: the accounts match the manifest.")
    elif not summary.actions:
        console.print("Nothing published.")
    else:
        counts = ", ".join(f"{verb} {n}" for verb, n in sorted(summary.by_verb.items()))
        console.print(f"Published: {summary.done} action(s) ({counts}).", markup=False)
    console.print(
        f"{summary.calls.total} API call(s), {summary.calls.mutating} mutating, "
        f"in {summary.seconds:.2f} s.",
        markup=False,
    )
    for action in summary.left:
        console.print(
            f"Left in place: {action.resource}, not in the manifest "
            "(publish --retire takes it out of the portfolio).",
            markup=False,
        )
