"""The stories the rehearsal can tell: what the scientist commits, what the reviewer
decides, and how the project must end for the rehearsal to pass.

`happy` ends with a production endpoint answering; the others show that a gate holds:
a model below the metric threshold is never registered, a failing staging test keeps
production untouched, a rejected package deploys nothing, a second model whose serving
fails on part of production's traffic is rolled back by the canary's alarm, and traffic
that drifts from the training data sets off the drift alarm and retraining (while traffic
like it starts nothing), and a project launched at version 1 is upgraded to version 2 of
its product with its repository's own change kept.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlops_seeds.errors import SeedsError
from mlops_seeds.rehearse.events import (
    ALARM_CHANGE,
    CODEPIPELINE_CHANGE,
    MODEL_PACKAGE_CHANGE,
    SAGEMAKER_PIPELINE_CHANGE,
)

Edit = Callable[[Path], str]  # edits a clone, returns the commit message


SCIENTIST_LINE = "\n# Tuned by the project's team: keep the preprocessing split at 70/15/15.\n"


def scientist_changes_the_pipeline(clone: Path) -> str:
    """The scientist's own change to the pipeline code (its last lines)."""
    pipeline = clone / "pipelines" / "pipeline.py"
    pipeline.write_text(pipeline.read_text() + SCIENTIST_LINE)
    return "Note the team's preprocessing split"


README_LINE = "\nRehearsed with `mlops-seeds rehearse`.\n"
# MetricGate("RMSE", "regression_metrics.rmse.value", "RmseThreshold", 65.0, False): the
# parameter's name, its default, and whether a greater metric is better.
_GATE = re.compile(r'("(?P<name>\w+Threshold)",\s*)(?P<value>[0-9.eE+-]+)(,\s*(?P<up>True|False))')


def touch_readme(clone: Path) -> str:
    """An ordinary change: a line added to the README."""
    readme = clone / "README.md"
    readme.write_text(readme.read_text() + README_LINE)
    return "Note the rehearsal in the README"


def unreachable_threshold(clone: Path) -> str:
    """Set the pipeline's metric threshold default where no model can meet it."""
    pipeline = clone / "pipelines" / "pipeline.py"
    source = pipeline.read_text()

    def impossible(match: re.Match[str]) -> str:
        value = "1000000.0" if match["up"] == "True" else "0.0"
        return f"{match.group(1)}{value}{match.group(4)}"

    edited, count = _GATE.subn(impossible, source)
    if count == 0:
        raise SeedsError(f"{pipeline}: no metric threshold default found to change")
    pipeline.write_text(edited)
    return "Raise the bar: a metric threshold no model meets"


def malformed_payload(clone: Path) -> str:
    """Break the staging test: its sample payload gains a column the model does not know
    (XGBoost takes rows with fewer columns than features, so a missing one would pass)."""
    payloads = sorted((clone / "test").glob("sample-payload-*.csv"))
    if not payloads:
        raise SeedsError(f"{clone / 'test'}: no sample payload to change")
    for payload in payloads:
        rows = [f"{line},0.5" for line in payload.read_text().splitlines() if line]
        payload.write_text("\n".join(rows) + "\n")
    return "Test with a payload of one feature too many"


# A serving bug the staging test does not catch: the sample payloads' rows all have a mean
# radius above 17; about 30% of the breast cancer data's rows are below 12.
SERVING_BUG = """

_predict_unchecked = predict_fn


def predict_fn(input_data: Any, model: Any) -> np.ndarray:  # noqa: F811
    \"\"\"Refuse rows outside the range the model was meant for (a check copied from
    another project, whose tumours were never smaller than 12).\"\"\"
    features = np.asarray(input_data, dtype=float)
    if features.ndim == 1:
        features = features.reshape(1, -1)
    if (features[:, 0] < 12).any():
        raise ValueError("mean radius below 12 is out of range")
    return _predict_unchecked(input_data, model)
"""


def serving_bug(clone: Path) -> str:
    """Add an input check to the serving script that refuses part of production's rows."""
    script = clone / "pipelines" / "scripts" / "inference.py"
    if not script.is_file():
        raise SeedsError(f"{script}: no serving script to change")
    script.write_text(script.read_text() + SERVING_BUG)
    return "Check the input range before predicting"


@dataclass(frozen=True)
class Scenario:
    """What happens in one rehearsal, and the end it must reach."""

    name: str
    summary: str
    build_edit: Edit
    deploy_edit: Edit | None
    decision: str  # the reviewer's model package decision: Approved or Rejected
    # deployed | not-registered | prod-untouched | nothing-deployed | rolled-back | retrained
    # | upgraded
    expect: str
    # A second change, once the first is in production: pushed, built, approved and
    # deployed while production takes traffic.
    second_edit: Edit | None = None
    product: str = "build-deploy"  # the catalog product launched unless --product says
    needs: tuple[str, ...] = ()  # serving-script, rollback-alarms, monitoring, notifications
    # The events the project's topic must have been told of (a project with a topic).
    notifies: tuple[str, ...] = (MODEL_PACKAGE_CHANGE,)


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "happy",
            "a change is pushed, the model is trained, approved and deployed to production",
            touch_readme,
            None,
            "Approved",
            "deployed",
        ),
        Scenario(
            "metric-fails",
            "the pushed change sets a threshold no model meets: nothing is registered",
            unreachable_threshold,
            None,
            "Approved",
            "not-registered",
            notifies=(SAGEMAKER_PIPELINE_CHANGE,),
        ),
        Scenario(
            "staging-test-fails",
            "the deploy repo's test is broken: staging is deployed, production is not",
            touch_readme,
            malformed_payload,
            "Approved",
            "prod-untouched",
            notifies=(MODEL_PACKAGE_CHANGE, CODEPIPELINE_CHANGE),
        ),
        Scenario(
            "rejected",
            "the reviewer rejects the model package: nothing is deployed",
            touch_readme,
            None,
            "Rejected",
            "nothing-deployed",
        ),
        Scenario(
            "canary-rollback",
            "a first model reaches production; a second fails on part of production's traffic "
            "in its canary, the alarm fires and production rolls back to the first",
            touch_readme,
            None,
            "Approved",
            "rolled-back",
            second_edit=serving_bug,
            product="build-deploy-classification",
            needs=("serving-script", "rollback-alarms"),
        ),
        Scenario(
            "drift",
            "a model reaches production; traffic like its training data passes the data-quality "
            "check and starts nothing; shifted traffic fails it, the drift alarm fires and the "
            "model-build pipeline retrains, registering a new package for review",
            touch_readme,
            None,
            "Approved",
            "retrained",
            needs=("monitoring",),
            notifies=(MODEL_PACKAGE_CHANGE, ALARM_CHANGE),
        ),
        Scenario(
            "upgrade",
            "the scientist changes the pipeline and builds; the platform team changes a seed "
            "and a template and publishes version 2; the project is upgraded (plan, then the "
            "update), its model-build repository gets the seed's update on a branch, the "
            "scientist merges it and the build of both changes registers a package",
            scientist_changes_the_pipeline,
            None,
            "Approved",
            "upgraded",
            needs=("notifications",),
        ),
    )
}
