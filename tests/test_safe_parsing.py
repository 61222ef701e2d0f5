"""Bounded parsing: every YAML/JSON file the tool reads from users costs bounded time and
memory, and a file that breaks a limit is one line naming the file and the rule."""

import json
import tracemalloc
from pathlib import Path

import pytest
import yaml

from mlops_seeds.bounded_parsing import (
    MAX_BYTES,
    MAX_DEPTH,
    DocumentError,
    check_yaml,
    load_json,
    load_yaml,
    read_json,
    read_yaml,
)
from mlops_seeds.catalog import templates
from mlops_seeds.sandbox.catalog.errors import InvalidParameters
from mlops_seeds.sandbox.catalog.templates import parse_template

PEAK_BYTES_MAX = 50 * 1024 * 1024


def billion_laughs(levels: int = 9) -> str:
    """The classic alias bomb: 9 levels of 9 references, 9**9 leaves once expanded."""
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_with_bounded_memory() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(DocumentError, match=r"^m\.yaml: line \d+: YAML aliases expand"):
            load_yaml(billion_laughs(), "m.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES_MAX


def test_alias_bomb_in_seed_options_of_the_manifest_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "portfolio.yaml"
    bomb = billion_laughs().replace("\n", "\n  ")
    path.write_text(f"lols:\n  {bomb}\nproducts:\n  - seeds: [{{name: x, options: *i}}]\n")
    tracemalloc.start()
    try:
        with pytest.raises(DocumentError) as caught:
            read_yaml(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value).startswith(f"{path}: line ")
    assert "\n" not in str(caught.value)
    assert peak < PEAK_BYTES_MAX


def test_many_aliases_are_refused_even_when_small() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 60) + "]\n"
    with pytest.raises(DocumentError, match="more than 50 YAML aliases"):
        load_yaml(text, "m.yaml")


def test_a_few_aliases_and_merge_keys_still_work() -> None:
    text = "base: &base {x: 1, y: 2}\nthing:\n  <<: *base\n  x: 3\nsame: *base\n"
    assert load_yaml(text, "m.yaml") == {
        "base": {"x": 1, "y": 2},
        "thing": {"x": 3, "y": 2},
        "same": {"x": 1, "y": 2},
    }


def test_self_referencing_alias_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"alias \*a refers to itself"):
        load_yaml("a: &a [1, *a]\n", "m.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,
        "{a: " * 200 + "1" + "}" * 200,
        "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "v",
    ],
    ids=["flow-sequences", "flow-mappings", "block-mappings"],
)
def test_deep_yaml_is_refused(text: str) -> None:
    with pytest.raises(DocumentError, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_yaml(text, "deep.yaml")


def test_nesting_at_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 1
    assert load_yaml("[" * depth + "]" * depth, "ok.yaml") is not None


def test_duplicate_key_names_the_key_and_both_lines() -> None:
    with pytest.raises(
        DocumentError, match=r"^m\.yaml: line 4: duplicate key 'name' \(first at line 2\)"
    ):
        load_yaml("seed:\n  name: a\n  options: {}\n  name: b\n", "m.yaml")


def test_non_utf8_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "portfolio.yaml"
    path.write_bytes(b"portfolio:\n  display_name: caf\xe9\n")
    with pytest.raises(DocumentError) as caught:
        read_yaml(path)
    assert str(caught.value) == f"{path}: not UTF-8 text (byte 0xe9 at offset 30)"


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * MAX_BYTES + "\n")
    with pytest.raises(DocumentError, match=f"larger than {MAX_BYTES} bytes"):
        read_yaml(path)


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(DocumentError, match=r"^m\.yaml: line 2: YAML syntax"):
        load_yaml("a: [1,\nb: ]]\n", "m.yaml")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("[" * 5000 + "]" * 5000, f"nested deeper than {MAX_DEPTH} levels"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"a": }', "line 1: JSON syntax"),
    ],
    ids=["deep-recursion", "deep", "duplicate-key", "syntax"],
)
def test_bad_json_is_one_line(text: str, rule: str) -> None:
    with pytest.raises(DocumentError, match=f"^c.json: {rule}"):
        load_json(text, "c.json")


def test_non_utf8_json_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cookiecutter.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(DocumentError, match="not UTF-8 text"):
        read_json(path)
    path.write_text(json.dumps({"a": [1, 2]}))
    assert read_json(path) == {"a": [1, 2]}


def test_check_yaml_leaves_syntax_and_tags_to_the_next_parser() -> None:
    check_yaml("Resources:\n  B: {Type: X, Properties: {Name: !Ref P}}\n", "t.yaml")
    check_yaml("a: [\n", "t.yaml")  # cfn-lint reports it as a finding
    with pytest.raises(DocumentError, match="duplicate key 'B'"):
        check_yaml("Resources:\n  B: 1\n  B: 2\n", "t.yaml")


def test_catalog_template_loader_keeps_cloudformation_tags_within_limits() -> None:
    text = "Parameters:\n  P: {Type: String, Default: !Ref AWS::Region}\n"
    assert templates.parameters(text, "templates/t.yaml") == {
        "P": {"Type": "String", "Default": "AWS::Region"}
    }
    with pytest.raises(DocumentError, match=r"^templates/t\.yaml: line 3: duplicate key 'P'"):
        templates.parameters(
            "Parameters:\n  P: {Type: String}\n  P: {Type: String}\n", "templates/t.yaml"
        )


def test_sandbox_template_loader_refuses_bombs_as_invalid_parameters() -> None:
    body = "Resources:\n  R: {Type: AWS::S3::Bucket}\n" + billion_laughs()
    with pytest.raises(InvalidParameters, match="YAML aliases expand"):
        parse_template(body, "https://b.s3.amazonaws.com/t.yaml")
    tagged = "Resources:\n  R: {Type: AWS::S3::Bucket, Properties: {BucketName: !Ref N}}\n"
    document = parse_template(tagged, "https://b.s3.amazonaws.com/t.yaml")
    assert document["Resources"]["R"]["Properties"]["BucketName"] == {"Ref": "N"}
    deep_json = '{"Resources": ' + "[" * 3000 + "]" * 3000 + "}"
    with pytest.raises(InvalidParameters, match="nested deeper"):
        parse_template(deep_json, "https://b.s3.amazonaws.com/t.json")


def _stacked_anchors(levels: int, per: int = 90) -> str:
    """Anchors each nesting `per` levels around an alias of the one before: each is shallow
    for the parser, together they nest levels * per deep."""
    lines, previous = [], "x"
    for k in range(levels):
        lines.append(f"a{k}: &a{k} " + "[" * per + previous + "]" * per)
        previous = f"*a{k}"
    return "\n".join(lines) + "\n"


def test_nesting_stacked_through_aliases_is_refused() -> None:
    text = _stacked_anchors(3)
    with pytest.raises(DocumentError, match="nested deeper than 100 levels"):
        load_yaml(text, "stacked.yaml")
    with pytest.raises(DocumentError, match="nested deeper than 100 levels"):
        check_yaml(text, "stacked.yaml")


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b"])
def test_a_control_character_is_one_line(character: str) -> None:
    # YAML allows no C0 control character but tab, LF and CR in a document.
    with pytest.raises(DocumentError, match=r"^m\.yaml: YAML syntax: .* \(offset 8\)$"):
        load_yaml(f"name: ab{character}c\n", "m.yaml")
    check_yaml(f"name: ab{character}c\n", "m.yaml")  # left to the next parser


def _shipped_yaml() -> list[Path]:
    root = Path(__file__).resolve().parents[1]
    found = [*root.glob("templates/**/*.yaml"), *root.glob("service_catalog/*.yaml")]
    found += [*root.glob("buildspecs/*.yml"), *root.glob("src/mlops_seeds/**/*.yaml")]
    return sorted(found + list(root.glob("seed_code/*/*/*.yml")))


class _PurePythonCfn(yaml.SafeLoader):
    """PyYAML's own pure-Python safe loader, reading CloudFormation tags as the catalog's
    loader does."""


_PurePythonCfn.add_multi_constructor("!", templates._untagged)


@pytest.mark.parametrize("path", _shipped_yaml(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_file_reads_as_pyyamls_own_safe_loader_reads_it(path: Path) -> None:
    # The bounded loader reads through libyaml; the documents must not change for it.
    text = path.read_text()
    assert load_yaml(text, str(path), templates.CfnLoader) == yaml.load(text, _PurePythonCfn)


def test_check_yaml_refuses_depth_past_libyamls_own_limit() -> None:
    # libyaml stops at 1000 levels with a syntax error of its own: still the depth rule.
    with pytest.raises(DocumentError, match=f"^t.yaml: line 1: nested deeper than {MAX_DEPTH}"):
        check_yaml("[" * 5000 + "]" * 5000, "t.yaml")
