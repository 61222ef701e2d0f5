"""Product templates made of parts: each parameter, rule, condition, resource and output is
written once; the products assemble into the templates Studio receives; a part or recipe
that breaks a rule is one line naming the file, the line and the rule; validate reports a
finding at the part's own line."""

import shutil
from pathlib import Path

import pytest
import yaml

from mlops_seeds.catalog import template_parts
from mlops_seeds.catalog.templates import CfnLoader
from mlops_seeds.errors import SeedsError
from mlops_seeds.validate import validate_paths

ROOT = Path(__file__).resolve().parents[2]
DEFINED = ("Parameters", "Rules", "Mappings", "Conditions", "Resources", "Outputs")


# Alternative parts, never in one product, that give the same parameters another type:
# where the stages are served (this account, fixed; or the spoke's deploy accounts, read
# from Systems Manager parameters).
ALTERNATIVES = ["templates/parts/deploy-accounts.yaml", "templates/parts/deploy-here.yaml"]
DEPLOY_ACCOUNTS = {("Parameters", "StagingAccountId"), ("Parameters", "ProdAccountId")}


def test_no_entry_is_written_in_two_template_sources() -> None:
    sources = sorted((ROOT / "templates").rglob("*.yaml"))
    seen: dict[tuple[str, str], list[str]] = {}
    for path in sources:
        body = yaml.load(path.read_text(), Loader=CfnLoader)
        for section in DEFINED:
            for name in body.get(section) or {}:
                seen.setdefault((section, name), []).append(path.relative_to(ROOT).as_posix())
    repeated = {key: where for key, where in seen.items() if len(where) > 1}
    assert repeated == dict.fromkeys(DEPLOY_ACCOUNTS, ALTERNATIVES)
    recipes = [p for p in sources if template_parts.is_recipe(p)]
    assert {p.name for p in recipes} == {
        "build.yaml",
        "build-deploy.yaml",
        "build-deploy-multi-account.yaml",
    }
    for recipe in recipes:
        parts = {f"templates/{part}" for part in yaml.safe_load(recipe.read_text())["Parts"]}
        assert len(parts & set(ALTERNATIVES)) == 1, recipe.name


def test_the_products_assemble_from_their_parts_in_order() -> None:
    build = template_parts.assemble(ROOT, "templates/build.yaml")
    both = template_parts.assemble(ROOT, "templates/build-deploy.yaml")
    assert build.parts == (
        "templates/parts/model-build.yaml",
        "templates/parts/notifications.yaml",
        "templates/parts/deploy-here.yaml",
    )
    assert both.parts == (
        "templates/parts/model-build.yaml",
        "templates/parts/notifications.yaml",
        "templates/parts/model-deploy.yaml",
        "templates/parts/deploy-here.yaml",
    )
    body = yaml.load(both.text, Loader=CfnLoader)
    assert "Parts" not in body
    assert body["Resources"]["CodePipelineDeployPolicy"]["Properties"]["Roles"] == [
        "CodePipelineRole"
    ]
    groups = [
        g["Label"]["default"]
        for g in body["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    ]
    assert groups[-2:] == [
        "Model-deploy repository",
        "Model-deploy seed code (set by mlops-seeds publish)",
    ]
    # every line of the assembled text comes from the line of a part or the recipe it names
    part = (ROOT / "templates/parts/model-deploy.yaml").read_text().splitlines()
    for number, line in enumerate(both.text.splitlines(), start=1):
        source, at = both.origin(number)
        if source == "templates/parts/model-deploy.yaml" and not line.lstrip().startswith("#"):
            assert part[at - 1] == line
    build_body = yaml.load(build.text, Loader=CfnLoader)
    assert "ModelDeployPipeline" not in build_body["Resources"]
    assert set(build_body["Resources"]) < set(body["Resources"])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    shutil.copytree(ROOT / "buildspecs", tmp_path / "buildspecs")
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def _refusal(repo: Path, template: str = "templates/build-deploy.yaml") -> str:
    with pytest.raises(SeedsError) as caught:
        template_parts.assemble(repo, template)
    return str(caught.value)


def test_an_entry_two_parts_define_is_refused_naming_both(repo: Path) -> None:
    part = repo / "templates/parts/model-deploy.yaml"
    _edit(
        part,
        "  ModelExecutionRole:\n",
        "  ArtifactBucket:\n    Type: AWS::S3::Bucket\n  ModelExecutionRole:\n",
    )
    message = _refusal(repo)
    line = part.read_text().splitlines().index("  ArtifactBucket:") + 1
    assert message == (
        f"templates/parts/model-deploy.yaml:{line}: Resources.ArtifactBucket is also defined in "
        "templates/parts/model-build.yaml: each parameter, rule, condition, resource and output "
        "is written in one part"
    )


def test_a_metadata_value_two_parts_set_is_refused(repo: Path) -> None:
    _edit(
        repo / "templates/parts/model-deploy.yaml",
        "    ModelDeploySeedKey:\n      Optional: true\n",
        "    ModelDeploySeedKey:\n      Optional: true\n"
        "    SourceProvider:\n      Optional: true\n",
    )
    assert _refusal(repo) == (
        "templates/parts/model-deploy.yaml: Metadata.SagemakerTemplateParameterRules."
        "SourceProvider.Optional is also set in templates/parts/model-build.yaml: each "
        "parameter, rule, condition, resource and output is written in one part"
    )


def test_a_metadata_clash_names_the_part_that_set_it_first(repo: Path) -> None:
    extra = repo / "templates/parts/extra.yaml"
    extra.write_text(
        "Metadata:\n  SagemakerTemplateParameterRules:\n"
        "    ModelDeploySeedKey:\n      Optional: false\n"
    )
    _edit(
        repo / "templates/build-deploy.yaml",
        "  - parts/model-deploy.yaml\n",
        "  - parts/model-deploy.yaml\n  - parts/extra.yaml\n",
    )
    assert _refusal(repo) == (
        "templates/parts/extra.yaml: Metadata.SagemakerTemplateParameterRules."
        "ModelDeploySeedKey.Optional is also set in templates/parts/model-deploy.yaml: each "
        "parameter, rule, condition, resource and output is written in one part"
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("  - parts/model-deploy.yaml\n", "  - ../../outside.yaml\n"),
            "templates/build-deploy.yaml: Parts[2] '../../outside.yaml': must stay inside",
        ),
        (
            ("  - parts/model-deploy.yaml\n", "  - parts/missing.yaml\n"),
            "templates/build-deploy.yaml: Parts[2] 'parts/missing.yaml': no such file",
        ),
        (
            ("  - parts/model-deploy.yaml\n", "  - parts/model-build.yaml\n"),
            "templates/build-deploy.yaml: Parts names a part twice",
        ),
        (
            ("Parts:\n", "Outputs: {}\nParts:\n"),
            "templates/build-deploy.yaml:11: a product template made of parts holds "
            "AWSTemplateFormatVersion, Description and Parts; Outputs belongs in a part",
        ),
    ],
    ids=["escape", "missing", "twice", "section-in-recipe"],
)
def test_a_bad_recipe_is_one_line_naming_the_rule(
    repo: Path, edit: tuple[str, str], expected: str
) -> None:
    _edit(repo / "templates/build-deploy.yaml", *edit)
    assert _refusal(repo).startswith(expected)


def test_a_part_holds_sections_only_in_block_form(repo: Path) -> None:
    part = repo / "templates/parts/model-deploy.yaml"
    _edit(part, "Outputs:\n", "Description: not here\nOutputs:\n")
    line = part.read_text().splitlines().index("Description: not here") + 1
    assert _refusal(repo) == (
        f"templates/parts/model-deploy.yaml:{line}: a part holds template sections only "
        "(Metadata, Parameters, Rules, Mappings, Conditions, Resources, Outputs); Description "
        "belongs to the product template"
    )


def test_validate_reports_a_finding_at_the_parts_own_line(repo: Path) -> None:
    part = repo / "templates/parts/model-deploy.yaml"
    _edit(part, "      PolicyName: deploy-stacks\n", "      PolicyNam: deploy-stacks\n")
    line = part.read_text().splitlines().index("      PolicyNam: deploy-stacks") + 1
    findings = validate_paths(repo, [repo / "templates"])
    placed = [f for f in findings if f.path == "templates/parts/model-deploy.yaml"]
    assert placed, findings
    assert {f.line for f in placed} <= {line - 1, line, line + 1}
    products = {f.message.rsplit("(in ", 1)[-1] for f in placed}  # each product made of it
    assert products == {
        "templates/build-deploy.yaml)",
        "templates/build-deploy-multi-account.yaml)",
    }
    # the part alone, named on the command line, is validated within its product
    again = validate_paths(repo, [part])
    assert {(f.path, f.line, f.rule) for f in again} == {(f.path, f.line, f.rule) for f in placed}
