"""Bad input to `mlops-seeds validate` and `template`: malformed templates, recipes of parts
and buildspecs are one finding each (exit 1, the summary line on stderr names the rule); a
path validate cannot read as a file or a folder, or a recipe `template` cannot assemble, is
one error line (exit 2). Nothing outside the case's place is read or
written."""

import os
from collections.abc import Callable

import pytest
from harness import Case, Places, check_one_line, ids, invoke

HEADER = "AWSTemplateFormatVersion: '2010-09-09'\n"
BUCKET = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n"


def _file(name: str, content: str | bytes) -> Callable[[Places], None]:
    def make(places: Places) -> None:
        path = places.place / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(places.fill([content])[0])

    return make


def _link(name: str, target: str) -> Callable[[Places], None]:
    def make(places: Places) -> None:
        (places.place / name).symlink_to(places.place / target)

    return make


def _fifo(name: str) -> Callable[[Places], None]:
    def make(places: Places) -> None:
        os.mkfifo(places.place / name)

    return make


def _folder(name: str, *makers: Callable[[Places], None]) -> Callable[[Places], None]:
    """Make `name` a folder, then the makers' files inside it."""

    def make(places: Places) -> None:
        (places.place / name).mkdir()
        inner = Places(places.place / name, places.outside)
        for maker in makers:
            maker(inner)

    return make


def _finding(rule: str) -> str:
    return f"1 finding(s) ({rule}: 1)"


# (case, what its place holds, the finding line on stdout (None: no stdout expected))
TABLE: list[tuple[Case, Callable[[Places], None] | None, str | None]] = [
    (
        Case("resources-list", ["validate", "t.yaml"], _finding("MS110"), 1),
        _file("t.yaml", HEADER + "Resources:\n  - a\n  - b\n"),
        "t.yaml:3: MS110 Resources must be a mapping, found a list",
    ),
    (
        Case("resources-list-json", ["validate", "t.json"], _finding("MS110"), 1),
        _file("t.json", '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": [1, 2]}'),
        "MS110 Resources must be a mapping, found a list",
    ),
    (
        Case("properties-list", ["validate", "t.yaml"], _finding("MS110"), 1),
        _file("t.yaml", HEADER + BUCKET + "    Properties:\n      - BucketName: x\n"),
        "t.yaml:6: MS110 resource B: Properties must be a mapping, found a list",
    ),
    (
        Case("properties-string", ["validate", "t.yaml"], _finding("MS110"), 1),
        _file("t.yaml", HEADER + BUCKET + "    Properties: bucket\n"),
        "MS110 resource B: Properties must be a mapping, found a string",
    ),
    (
        Case("parameters-list", ["validate", "t.yaml"], _finding("MS110"), 1),
        _file("t.yaml", HEADER + "Parameters: [a, b]\n" + BUCKET),
        "t.yaml:2: MS110 Parameters must be a mapping, found a list",
    ),
    (
        Case("resource-not-a-mapping", ["validate", "t.yaml"], _finding("MS110"), 1),
        _file("t.yaml", HEADER + "Resources:\n  B: [AWS::S3::Bucket]\n"),
        "MS110 resource B must be a mapping, found a list",
    ),
    (
        Case("metadata-list", ["validate", "t.yaml"], _finding("MS110"), 1),
        _file("t.yaml", HEADER + BUCKET + "    Metadata: [1]\n"),
        "MS110 resource B: Metadata must be a mapping, found a list",
    ),
    (
        Case("buildspec-outside-buildspecs", ["validate", "t.yaml"], _finding("MS106"), 1),
        _file(
            "t.yaml",
            HEADER
            + "Resources:\n  P:\n    Type: AWS::CodeBuild::Project\n"
            + "    Metadata: {MlopsSeeds: {Buildspec: '{outside}/secret.txt'}}\n"
            + "    Properties:\n      ServiceRole: r\n      Artifacts: {Type: NO_ARTIFACTS}\n"
            + "      Source: {Type: NO_SOURCE, BuildSpec: x}\n"
            + "      Environment: {Type: LINUX_CONTAINER, ComputeType: BUILD_GENERAL1_SMALL,"
            + " Image: aws/codebuild/standard:7.0}\n",
        ),
        "MS106 CodeBuild project P declares buildspec",
    ),
    (
        Case("buildspec-phases-list", ["validate", "buildspec.yml"], _finding("MS103"), 1),
        _file("buildspec.yml", "version: 0.2\nphases: [build]\n"),
        "MS103 phases must be a mapping of at least one phase",
    ),
    (
        Case("buildspec-phase-list", ["validate", "buildspec.yml"], _finding("MS104"), 1),
        _file("buildspec.yml", "version: 0.2\nphases:\n  build: [ls]\n"),
        "MS104 phase 'build' must be a mapping",
    ),
    (
        Case("buildspec-env-list", ["validate", "buildspec.yml"], _finding("MS103"), 1),
        _file("buildspec.yml", "version: 0.2\nenv: [A]\nphases: {build: {commands: [ls]}}\n"),
        "MS103 env must be a mapping",
    ),
    (
        Case("buildspec-variables-list", ["validate", "buildspec.yml"], _finding("MS103"), 1),
        _file(
            "buildspec.yml",
            "version: 0.2\nenv: {variables: [A]}\nphases: {build: {commands: [ls]}}\n",
        ),
        "MS103 env.variables must be a mapping of names to values",
    ),
    (
        Case("non-utf8-template", ["validate", "t.yaml"], _finding("MS101"), 1),
        _file("t.yaml", b"Resources:\n  \xff\xfe: {Type: AWS::S3::Bucket}\n"),
        "t.yaml:1: MS101 not UTF-8 text (byte 0xff at offset 13)",
    ),
    (
        Case("deep-yaml-nesting", ["validate", "t.yaml"], _finding("MS101"), 1),
        _file("t.yaml", "Resources: " + "[" * 20000 + "]" * 20000 + "\n"),
        "t.yaml:1: MS101 nested deeper than",
    ),
    (
        Case("deep-json-nesting", ["validate", "t.json"], _finding("MS101"), 1),
        _file("t.json", '{"Resources": ' + "[" * 100000 + "]" * 100000 + "}"),
        "t.json:1: MS101 nested deeper than",
    ),
    (
        Case("empty-file", ["validate", "t.yaml"], _finding("MS100"), 1),
        _file("t.yaml", ""),
        "t.yaml:1: MS100 neither a CloudFormation template nor a buildspec",
    ),
    (
        Case(
            "dev-null",
            ["validate", "/dev/null"],
            "/dev/null: not a regular file or directory",
        ),
        None,
        None,
    ),
    (
        Case("fifo", ["validate", "pipe.yaml"], "pipe.yaml: not a regular file or directory"),
        _fifo("pipe.yaml"),
        None,
    ),
    (
        Case("symlink-loop", ["validate", "loop.yaml"], "loop.yaml: a symbolic link loop"),
        _link("loop.yaml", "loop.yaml"),
        None,
    ),
    (
        Case(
            "symlink-loop-pair",
            ["validate", "a.yaml"],
            "a.yaml: a symbolic link loop",
        ),
        lambda places: (_link("a.yaml", "b.yaml")(places), _link("b.yaml", "a.yaml")(places)),
        None,
    ),
    (
        Case("broken-link", ["validate", "gone.yaml"], "gone.yaml: a broken symbolic link"),
        _link("gone.yaml", "nowhere.yaml"),
        None,
    ),
    (
        Case("missing-path", ["validate", "nope.yaml"], "nope.yaml: no such file or directory"),
        None,
        None,
    ),
    (
        Case("loop-in-a-folder", ["validate", "d"], _finding("MS109"), 1),
        _folder("d", _link("loop.yaml", "loop.yaml"), _link("up", ".")),
        "loop.yaml:1: MS109 cannot read: a symbolic link loop",
    ),
    (
        Case("neither-template-nor-buildspec", ["validate", "x.yaml"], _finding("MS100"), 1),
        _file("x.yaml", "- just\n- a list\n"),
        "x.yaml:1: MS100 neither a CloudFormation template nor a buildspec",
    ),
    (
        Case("non-utf8-in-a-folder", ["validate", "d"], _finding("MS101"), 1),
        _folder("d", _file("bad.yml", b"version: 0.2\n\xc3\x28\n")),
        "bad.yml:1: MS101 not UTF-8 text",
    ),
    (
        Case("recipe-part-outside", ["validate", "t.yaml"], _finding("MS112"), 1),
        _file("t.yaml", HEADER + "Parts:\n  - '{outside}/part.yaml'\n"),
        "t.yaml:1: MS112 Parts[0] '",
    ),
    (
        Case("template-part-twice", ["template", "t.yaml"], "t.yaml: Parts names a part twice"),
        _file("t.yaml", HEADER + "Parts: [p.yaml, p.yaml]\n"),
        None,
    ),
    (
        Case("template-missing", ["template", "gone.yaml"], "gone.yaml: no such file"),
        None,
        None,
    ),
    (
        Case(
            "template-output-unwritable",
            ["template", "t.yaml", "--output", "{place}/no/such/folder/t.yaml"],
            "--output {place}/no/such/folder/t.yaml: cannot write it (No such file or directory)",
        ),
        _file("t.yaml", HEADER + BUCKET),
        None,
    ),
]
CASES = [case for case, _, _ in TABLE]
SETUP = {case.id: (make, finding) for case, make, finding in TABLE}


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_validate_bad_input(case: Case, places: Places, monkeypatch: pytest.MonkeyPatch) -> None:
    make, finding = SETUP[case.id]
    if make is not None:
        make(places)
    result = invoke(places, case, monkeypatch)
    check_one_line(result, case, places)
    if finding is not None:
        assert result.stdout.count("\n") == 1, result.stdout
        assert finding in result.stdout
