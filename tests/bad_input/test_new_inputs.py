"""Bad and hostile inputs to `mlops-seeds new`: each refused with one line naming the option
and its rule, exit 2, before anything renders, and nothing written outside its place."""

import pytest
from harness import Case, Places, check_one_line, ids, invoke

OUT = ["-o", "{place}/out"]
JINJA = '{{ cycler.__init__.__globals__.os.popen("touch {outside}/pwned").read() }}'
QUOTE_NEWLINE = 'x"\nimport os; os.system("touch {outside}/pwned")\ny="'
REGION_RULE = "must match ^[a-z]{2}(-[a-z]+)+-[0-9]$ (an AWS region like us-east-1)"


def new(seed: str, *sets: str) -> list[str]:
    """`new SEED --no-input -o {place}/out --set ...`."""
    args = ["new", seed, "--no-input", *OUT]
    for pair in sets:
        args += ["--set", pair]
    return args


CASES = [
    Case("unknown-seed", ["new", "no-such-seed", *OUT], "unknown seed 'no-such-seed'"),
    Case(
        "output-under-proc",
        ["new", "model-build", "--no-input", "-o", "/proc/mlops-seeds-nope"],
        "-o /proc/mlops-seeds-nope: cannot create it",
    ),
    Case("jinja-in-region", new("model-build", f"aws_region={JINJA}"), REGION_RULE),
    Case(
        "quote-newline-in-region",
        new("model-build", f"aws_region={QUOTE_NEWLINE}"),
        "--set aws_region='x\"\\nimport os;",
    ),
    Case(
        "jinja-in-deploy-region",
        new("model-deploy", f"aws_region={JINJA}"),
        "--set aws_region='{{ cycler.__init__",
    ),
    Case(
        "region-trailing-newline",
        new("model-build", "aws_region=us-east-1\n"),
        f"--set aws_region='us-east-1\\n': {REGION_RULE}",
    ),
    Case(
        "region-unicode-digit",
        new("model-build", "aws_region=us-east-\u0661"),
        "--set aws_region='us-east-\u0661'",
    ),
    Case("region-upper-case", new("model-build", "aws_region=US-EAST-1"), REGION_RULE),
    Case(
        "repeated-set",
        new("model-build", "aws_region=us-east-1", "aws_region=eu-west-1"),
        "--set aws_region: given more than once",
    ),
    Case(
        "repeated-set-same-value",
        new("model-build", "framework=xgboost", "framework=xgboost"),
        "--set framework: given more than once",
    ),
    Case(
        "instance-type-without-ml",
        new("model-deploy", "prod_instance_type=m5.large"),
        "--set prod_instance_type='m5.large': must match ^ml\\.[a-z0-9]+\\.[a-z0-9]+$",
    ),
    Case(
        "instance-type-injection",
        new("model-deploy", 'staging_instance_type=ml.m5.large"; touch {outside}/pwned'),
        "--set staging_instance_type=",
    ),
    Case(
        "instance-count-zero",
        new("model-deploy", "prod_instance_count=0"),
        "--set prod_instance_count='0': must match ^([1-9][0-9]?|100)$ (an integer from 1 to 100)",
    ),
    Case(
        "instance-count-too-many",
        new("model-deploy", "prod_instance_count=101"),
        "(an integer from 1 to 100)",
    ),
    Case(
        "instance-count-exponent",
        new("model-deploy", "prod_instance_count=1e3"),
        "--set prod_instance_count='1e3'",
    ),
    Case(
        "choice-outside-list",
        new("model-build", "framework=pytorch"),
        "--set framework='pytorch': must be one of xgboost, sklearn",
    ),
    Case(
        "choice-with-jinja",
        new("model-build", "problem_type={{ 7 * 7 }}"),
        "--set problem_type='{{ 7 * 7 }}': must be one of regression, classification",
    ),
    Case(
        "private-patterns-option",
        new("model-build", "_patterns={}"),
        "--set _patterns: not an option of seed 'model-build'",
    ),
    Case(
        "derived-repo-name",
        new("model-build", "__repo_name=../../escaped"),
        "--set __repo_name: not an option of seed 'model-build'",
    ),
    Case(
        "project-name-traversal",
        new("model-build", "project_name=../../escaped"),
        "project_name '../../escaped': must be 1-32 characters",
    ),
    Case(
        "long-value-shortened",
        new("model-build", "aws_region=" + "a" * 5000),
        "...': must match",
    ),
    Case(
        "unknown-option-with-newline",
        new("model-build", "evil\nkey=1"),
        "--set 'evil\\nkey': not an option",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_new_bad_input(case: Case, places: Places, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(places, case, monkeypatch)
    check_one_line(result, case, places)
    assert not (places.place / "out").exists()
    assert not (places.outside / "pwned").exists()
