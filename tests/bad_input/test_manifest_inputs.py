"""Bad and hostile catalog manifests through `mlops-seeds plan --manifest FILE`: each fails
while the manifest loads, before any AWS call or rendering, with one line naming the field
(or the file's line) and the rule; nothing is written outside the case's place."""

from dataclasses import dataclass

import pytest
from harness import Case, Places, check_one_line, invoke

from mlops_seeds.bounded_parsing import MAX_BYTES

# Nothing can reach AWS: a closed loopback port, fake keys, empty config files.
OFFLINE = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE",
    "AWS_SECRET_ACCESS_KEY": "fake",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "{place}/no-aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "{place}/no-aws-credentials",
}
PLAN = ["plan", "--manifest", "{place}/portfolio.yaml"]
REGION_RULE = "must match ^[a-z]{2}(-[a-z]+)+-[0-9]$ (an AWS region like us-east-1)"


def manifest(options: str = "{}", prefix: str = '""', extra: str = "") -> str:
    """A valid one-product manifest with the model-build seed's options and the seed
    bucket's prefix as given (YAML flow text)."""
    return (
        "portfolio: {display_name: Seeds, provider: Platform}\n"
        "products:\n"
        "  - key: build\n"
        "    name: Build\n"
        "    owner: Platform\n"
        "    template: templates/build.yaml\n"
        f"    seeds: [{{name: model-build, options: {options}}}]\n"
        '    version: "1.0"\n'
        f"seed_bucket: {{prefix: {prefix}}}\n"
        f"{extra}"
    )


def bomb() -> str:
    lines = ["lols:", "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ManifestCase:
    """A manifest's bytes and the one line plan must answer with."""

    id: str
    content: bytes
    expect: str

    def case(self) -> Case:
        return Case(self.id, PLAN, self.expect, env=OFFLINE)


def text(id: str, content: str, expect: str) -> ManifestCase:
    return ManifestCase(id, content.encode(), expect)


JINJA = "\"{{ cycler.__init__.__globals__.os.popen('touch {outside}/pwned').read() }}\""
QUOTE_NEWLINE = '"x\\"\\nimport os; os.system(\'touch {outside}/pwned\')\\ny=\\""'

CASES = [
    text(
        "jinja-in-seed-option",
        manifest(f"{{aws_region: {JINJA}}}"),
        'products[0].seeds[0].options: aws_region="{{ cycler.__init__',
    ),
    text(
        "quote-newline-in-seed-option",
        manifest(f"{{aws_region: {QUOTE_NEWLINE}}}"),
        "products[0].seeds[0].options: aws_region='x\"\\nimport os;",
    ),
    text(
        "region-rule-named",
        manifest("{aws_region: Moon-1}"),
        f"products[0].seeds[0].options: aws_region='Moon-1': {REGION_RULE}",
    ),
    text(
        "option-choice",
        manifest("{framework: pytorch}"),
        "products[0].seeds[0].options: framework='pytorch': must be one of xgboost, sklearn",
    ),
    text(
        "option-unknown",
        manifest("{_patterns: x}"),
        "products[0].seeds[0].options: _patterns: not an option of seed 'model-build'",
    ),
    text(
        "option-as-list",
        manifest("{aws_region: [us-east-1]}"),
        "products[0].seeds[0].options.aws_region: Input should be a valid string",
    ),
    text(
        "options-as-list",
        manifest("[aws_region]"),
        "products[0].seeds[0].options: Input should be a valid dictionary",
    ),
    text("alias-bomb-in-options", bomb() + manifest("*i"), "YAML aliases expand to more than"),
    text(
        "many-aliases",
        "x: &x 1\nxs: [" + ", ".join(["*x"] * 60) + "]\n" + manifest(),
        "line 2: more than 50 YAML aliases",
    ),
    text("self-alias", "loop: &loop [*loop]\n" + manifest(), "YAML alias *loop refers to itself"),
    text("deep-nesting", manifest("[" * 200 + "]" * 200), "nested deeper than 100 levels"),
    text(
        "duplicate-top-level-key",
        manifest() + "portfolio: {display_name: Other, provider: Platform}\n",
        "line 10: duplicate key 'portfolio' (first at line 1)",
    ),
    text(
        "duplicate-option-key",
        manifest("{framework: xgboost, framework: sklearn}"),
        "line 7: duplicate key 'framework' (first at line 7)",
    ),
    ManifestCase(
        "non-utf8",
        manifest().replace("Platform}", "Platf\udcffrm}", 1).encode("utf-8", "surrogateescape"),
        "portfolio.yaml: not UTF-8 text (byte 0xff at offset",
    ),
    ManifestCase("utf16", manifest().encode("utf-16"), "portfolio.yaml: not UTF-8 text"),
    text("yaml-syntax", manifest() + "products: [\n", "YAML syntax"),
    text(
        "too-large",
        manifest() + "# " + "x" * MAX_BYTES + "\n",
        f"portfolio.yaml: larger than {MAX_BYTES} bytes",
    ),
    text("empty", "", "(top level): must be a mapping"),
    text(
        "prefix-traversal",
        manifest(prefix="../../"),
        "seed_bucket.prefix: '../../': a prefix has no empty, '.' or '..' segment",
    ),
    text(
        "prefix-inner-traversal",
        manifest(prefix="seeds/../../other/"),
        "seed_bucket.prefix: 'seeds/../../other/': a prefix has no empty, '.' or '..'",
    ),
    text(
        "prefix-leading-slash",
        manifest(prefix="/seeds/"),
        "seed_bucket.prefix: '/seeds/': a prefix is empty or ends with '/' (no leading '/')",
    ),
    text(
        "prefix-unsafe-characters",
        manifest(prefix='"seeds?x=1/"'),
        "seed_bucket.prefix: 'seeds?x=1/': a prefix holds only letters, digits, !-_.*'() and",
    ),
    text(
        "prefix-space",
        manifest(prefix='"my seeds/"'),
        "S3's safe characters",
    ),
    text(
        "route-prefix-traversal",
        manifest(
            extra="s3_route: {bucket: 'b-{account_id}', prefix: ./, domain_ids: [d-abcdefabcdef]}\n"
        ),
        "s3_route.prefix: './': a prefix has no empty, '.' or '..' segment",
    ),
]


@pytest.mark.parametrize("mcase", CASES, ids=[c.id for c in CASES])
def test_plan_bad_manifest(
    mcase: ManifestCase, places: Places, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = places.fill([mcase.content.decode("utf-8", "surrogateescape")])[0]
    (places.place / "portfolio.yaml").write_bytes(content.encode("utf-8", "surrogateescape"))
    case = mcase.case()
    result = invoke(places, case, monkeypatch)
    check_one_line(result, case, places)
    assert not (places.outside / "pwned").exists()
    assert sorted(p.name for p in places.place.iterdir()) == ["portfolio.yaml"]
