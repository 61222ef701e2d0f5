"""Which environment variables a buildspec reads from its CodeBuild project."""

from mlops_seeds.validate.buildspecs import variables_read


def _spec(*commands: str, env: dict[str, object] | None = None) -> dict[str, object]:
    body: dict[str, object] = {"version": 0.2, "phases": {"build": {"commands": list(commands)}}}
    if env:
        body["env"] = env
    return body


def test_reads_plain_and_braced_references() -> None:
    assert variables_read(_spec("run --a $ALPHA --b ${BETA}", 'echo "${GAMMA:-x}"')) == {
        "ALPHA",
        "BETA",
        "GAMMA",
    }


def test_builtins_and_codebuild_variables_need_no_project() -> None:
    spec = _spec("cd $CODEBUILD_SRC_DIR_BuildArtifact && echo $AWS_REGION $HOME $PATH")
    assert variables_read(spec) == set()


def test_variables_set_by_the_buildspec_itself_are_not_required() -> None:
    spec = _spec(
        "export TAG=$(date +%s)",
        "OUT=dist; echo $OUT $TAG",
        "for f in a b; do echo $f; done",
        "read -r LINE < file; echo $LINE",
        "echo $FROM_ENV $SECRET $NEEDED",
        env={"variables": {"FROM_ENV": "1"}, "secrets-manager": {"SECRET": "s:k"}},
    )
    assert variables_read(spec) == {"NEEDED"}


def test_finally_blocks_count() -> None:
    spec = {"version": 0.2, "phases": {"build": {"commands": ["true"], "finally": ["echo $X"]}}}
    assert variables_read(spec) == {"X"}
