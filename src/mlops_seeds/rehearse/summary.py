"""The rehearsal's closing summary: stages and times, runs, resources, outcome, places."""

from mlops_seeds.failures import AWS_REFUSAL
from mlops_seeds.rehearse.flow import Report


def first_refusal(report: Report) -> str:
    """The first IAM refusal of the rehearsal's pipelines ("" when none): the line a
    failed summary quotes, naming the action and the role that was refused."""
    texts: list[str] = []
    if report.runs is not None:
        for run in report.runs.history:
            failed = run.record.failed_action
            if failed is not None:
                texts.append(failed.summary)
        texts += report.runs.refusals
    for text in texts:
        found = AWS_REFUSAL.search(text)
        if found:
            return found.group(0).strip()
    return ""


def summary_lines(report: Report) -> list[str]:
    """The summary printed after the last stage."""
    lines = ["", "Summary"]
    timeline = report.timeline
    for stage in timeline.stages:
        lines.append(f"  {stage.name:<10} {stage.status:<7} {stage.seconds:7.1f} s")
    lines.append(f"  {'total':<10} {'':<7} {timeline.total:7.1f} s")
    if report.project is not None:
        project = report.project
        lines += ["", f"Project {project.name} ({project.id}), stack {project.stack_name}"]
    if report.runs is not None:
        lines.append("Pipeline runs:")
        for run in report.runs.history:
            lines.append(f"  {run.line()}")
    if report.runs is not None and report.runs.notifications:
        lines.append("Notifications:")
        lines += [f"  {n.line()}" for n in report.runs.notifications]
    if report.traffic:
        lines.append(f"Production traffic during the second deployment: {report.traffic}")
    if report.resources:
        listed = ", ".join(f"{kind} {count}" for kind, count in report.resources.items())
        lines.append(f"Resources in the spoke: {listed}")
    for account, counts in report.stage_resources.items():
        listed = ", ".join(f"{kind} {count}" for kind, count in counts.items())
        lines.append(f"Resources in {account}: {listed}")
    if report.outcome is not None:
        outcome = report.outcome
        lines.append("End state:")
        lines += [f"  {name}: {value}" for name, value in outcome.facts.items()]
        if outcome.predictions:
            lines.append(f"  prod predictions: {', '.join(outcome.predictions)}")
        verdict = "PASSED" if outcome.passed else "FAILED"
        refusal = "" if outcome.passed else first_refusal(report)
        because = f"; AWS would refuse: {refusal}" if refusal else ""
        if not (outcome.passed and report.undeleted):
            lines.append(f"Rehearsal {verdict}: {outcome.summary}{because}")
    if report.undeleted:
        lines.append(f"Rehearsal FAILED in stage delete: {report.undeleted}")
    if report.error:
        failed = next((s.name for s in timeline.stages if s.status == "failed"), "setup")
        lines.append(f"Rehearsal FAILED in stage {failed}: {report.error}")
    if report.runs is not None:
        lines.append("Where things are:")
        for label, place in report.runs.places().items():
            lines.append(f"  {label}: {place}")
    return lines
