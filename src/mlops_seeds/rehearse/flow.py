"""The rehearsal, stage by stage: the sandbox and its accounts, the platform team's publish,
a scientist's project, a push, the build pipeline, the review, the deploy pipeline and the
production endpoint's answer."""

import importlib.util
import shutil
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_seeds import aws
from mlops_seeds.bounded_parsing import load_yaml, read_yaml
from mlops_seeds.catalog import publishing
from mlops_seeds.catalog.manifest import DEFAULT_LAUNCH_ROLE, DEFAULT_MANIFEST, validate_manifest
from mlops_seeds.catalog.template_parts import template_text
from mlops_seeds.catalog.templates import CfnLoader
from mlops_seeds.errors import SeedsError
from mlops_seeds.failures import is_aws_failure
from mlops_seeds.paths import repo_root
from mlops_seeds.rehearse import drift
from mlops_seeds.rehearse import project as projects
from mlops_seeds.rehearse import stacks as stack_events
from mlops_seeds.rehearse import upgrade as upgrades
from mlops_seeds.rehearse import world as worlds
from mlops_seeds.rehearse.approvals import Approver
from mlops_seeds.rehearse.outcome import Outcome, check_outcome
from mlops_seeds.rehearse.roles import act_as
from mlops_seeds.rehearse.runs import PipelineRuns, Run
from mlops_seeds.rehearse.scenarios import Scenario
from mlops_seeds.rehearse.stages import Echo, Stage, Timeline
from mlops_seeds.rehearse.traffic import Traffic, feature_rows
from mlops_seeds.sandbox import Sandbox
from mlops_seeds.sandbox.iam.principals import SAGEMAKER
from mlops_seeds.seeds import get_seed

SPOKE_BOOTSTRAP = Path("service_catalog/spoke-bootstrap.yaml")
TARGET_BOOTSTRAP = Path("service_catalog/target-bootstrap.yaml")
# The product templates' parameter of the staging account (templates/parts/deploy-*.yaml).
DEPLOY_ACCOUNT_PARAMETER = "StagingAccountId"
BUILD_SEED = "model-build"
DEPLOY_SEED = "model-deploy"
SCRIPTED_FRAMEWORK = "sklearn"  # the model-build framework that serves with inference.py
# The sandbox's clock runs this much faster in a rehearsal: a 5-minute baking period takes
# 5 s, a 60 s alarm period 1 s.
TIME_SCALE = 60.0
# Importable module -> the distribution to install: what builds and model servers use.
PACKAGES = {
    "sagemaker": "sagemaker",
    "xgboost": "xgboost-cpu",
    "sklearn": "scikit-learn",
    "pandas": "pandas",
    "hatchling": "hatchling",
}
# The model-build seed's data set of each problem type (pipelines/data/<name>.csv).
DATASETS = {"regression": "diabetes", "classification": "breast_cancer"}
# Who makes the project's roles: the template, under the mlops-seeds launch role (the
# catalog's default), or nobody: the roles SageMaker made when projects were enabled.
PROJECT_ROLES = ("created", "aws-managed")


@dataclass(frozen=True)
class Options:
    """What to rehearse, and where."""

    scenario: Scenario
    product_key: str | None = None  # None: the scenario's product
    project_name: str = "rehearsal"
    workdir: Path | None = None
    port: int = 0
    approver: Approver | None = None
    decide: Callable[[dict[str, Any]], str] | None = None
    project_roles: str = "created"  # one of PROJECT_ROLES
    delete_project: bool = True  # the scientist deletes the project at the end

    @property
    def product(self) -> str:
        """The key of the catalog product the scientist launches."""
        return self.product_key or self.scenario.product

    @property
    def aws_managed_roles(self) -> bool:
        """Whether the project uses SageMaker's roles and launches with its launch role."""
        return self.project_roles == "aws-managed"


@dataclass
class Report:
    """What the rehearsal did: stages, the project, the runs and the outcome."""

    timeline: Timeline
    workdir: Path
    project: projects.Project | None = None
    runs: PipelineRuns | None = None
    outcome: Outcome | None = None
    resources: dict[str, int] = field(default_factory=dict)
    stage_resources: dict[str, dict[str, int]] = field(default_factory=dict)  # other accounts
    traffic: str = ""  # production traffic during a second deployment
    checks: dict[str, drift.Check] = field(default_factory=dict)  # the drift scenario's
    upgrade: Any = None  # the upgrade scenario's plan (projects.Upgrade)
    offered: dict[str, str] = field(default_factory=dict)  # repository -> seed-update branch
    undeleted: str = ""  # why the project could not be deleted
    error: str = ""
    trace: str = ""

    @property
    def passed(self) -> bool:
        """Whether the project ended as the scenario says it must."""
        return (
            not self.error
            and not self.undeleted
            and self.outcome is not None
            and self.outcome.passed
        )


def workdir_for(options: Options) -> Path:
    """The directory of this rehearsal (made): --workdir, else a new temporary one."""
    if options.workdir is None:
        return Path(tempfile.mkdtemp(prefix="mlops-seeds-rehearsal-"))
    if options.workdir.exists() and any(options.workdir.iterdir()):
        raise SeedsError(f"--workdir {options.workdir}: must be empty or not exist")
    options.workdir.mkdir(parents=True, exist_ok=True)
    return options.workdir


def manifest_for(root: Path, spokes: tuple[str, ...], aws_managed_roles: bool = False) -> Any:
    """The repository's catalog manifest, shared to the rehearsal's spokes. With
    `aws_managed_roles`, its products launch with SageMaker's launch role and deploy
    production without autoscaling, rollback alarms and monitoring (SageMaker's CloudFormation
    role may not register scalable targets nor put metric alarms, the drift alarm's kind)."""
    data = read_yaml(root / DEFAULT_MANIFEST)
    data["spokes"] = {**data.get("spokes", {}), "accounts": list(spokes)}
    if aws_managed_roles:
        data["launch_role"] = worlds.SAGEMAKER_LAUNCH_ROLE
        for product in data.get("products") or []:
            product["seeds"] = [_without_autoscaling(ref) for ref in product.get("seeds") or []]
    return validate_manifest(data, root)


def _without_autoscaling(ref: Any) -> Any:
    """A product's seed reference, the model-deploy seed's with prod_autoscaling,
    prod_rollback_alarms and prod_monitoring off."""
    if ref == DEPLOY_SEED or (isinstance(ref, dict) and ref.get("name") == DEPLOY_SEED):
        options = ref.get("options", {}) if isinstance(ref, dict) else {}
        off = {"prod_autoscaling": "no", "prod_rollback_alarms": "no", "prod_monitoring": "no"}
        return {"name": DEPLOY_SEED, "options": {**options, **off}}
    return ref


def find_product(manifest: Any, key: str) -> Any:
    """The manifest's product `key`; SeedsError naming the keys there are."""
    for product in manifest.products:
        if product.key == key:
            return product
    keys = ", ".join(p.key for p in manifest.products)
    raise SeedsError(f"--product {key}: not in {DEFAULT_MANIFEST} (products: {keys})")


def seed_option(root: Path, product: Any, seed: str, option: str) -> str | None:
    """The value of `option` the product renders `seed` with (None: no such seed)."""
    for ref in product.seeds:
        if ref.name == seed:
            default = get_seed(root, seed).context[option]
            return str(
                ref.options.get(option, default[0] if isinstance(default, list) else default)
            )
    return None


def check_scenario_needs(root: Path, product: Any, options: Options) -> None:
    """SeedsError when the product cannot tell the scenario's story."""
    scenario = options.scenario
    if "serving-script" in scenario.needs:
        framework = seed_option(root, product, BUILD_SEED, "framework")
        if framework != SCRIPTED_FRAMEWORK:
            raise SeedsError(
                f"--product {product.key}: the {scenario.name} scenario changes the model's "
                f"serving script, which the {BUILD_SEED} seed has with framework "
                f"{SCRIPTED_FRAMEWORK} (this product: {framework}); try --product "
                f"{scenario.product}"
            )
    if "monitoring" in scenario.needs:
        if options.aws_managed_roles:
            raise SeedsError(
                f"--scenario {scenario.name}: needs the drift alarm, which SageMaker's "
                "CloudFormation role may not make (--project-roles aws-managed)"
            )
        if seed_option(root, product, DEPLOY_SEED, "prod_monitoring") != "yes":
            raise SeedsError(
                f"--product {product.key}: the {scenario.name} scenario needs the "
                f"{DEPLOY_SEED} seed with prod_monitoring: yes"
            )
    if "notifications" in scenario.needs and options.aws_managed_roles:
        raise SeedsError(
            f"--scenario {scenario.name}: changes a rule of the project's notifications, "
            "which a project with SageMaker's roles does not get (--project-roles aws-managed)"
        )
    if "rollback-alarms" in scenario.needs:
        if options.aws_managed_roles:
            raise SeedsError(
                f"--scenario {scenario.name}: needs the rollback alarms, which SageMaker's "
                "CloudFormation role may not make (--project-roles aws-managed)"
            )
        if seed_option(root, product, DEPLOY_SEED, "prod_rollback_alarms") != "yes":
            raise SeedsError(
                f"--product {product.key}: the {scenario.name} scenario needs the "
                f"{DEPLOY_SEED} seed with prod_rollback_alarms: yes"
            )


def deploys_elsewhere(root: Path, product: Any) -> bool:
    """Whether the product serves staging and production from the accounts its spoke's
    bootstrap names (its template reads them from Systems Manager parameters)."""
    template = load_yaml(template_text(root, product.template), product.template, CfnLoader)
    parameter = (template.get("Parameters") or {}).get(DEPLOY_ACCOUNT_PARAMETER) or {}
    return str(parameter.get("Type", "")).startswith("AWS::SSM::Parameter")


def deploy_problem_type(root: Path, product: Any) -> str:
    """The problem_type the product's model-deploy seed is rendered with; SeedsError when
    the product has no model-deploy repository to rehearse a deployment with."""
    for ref in product.seeds:
        if ref.name == DEPLOY_SEED:
            default = get_seed(root, DEPLOY_SEED).context["problem_type"]
            return str(ref.options.get("problem_type", default[0]))
    raise SeedsError(f"--product {product.key}: has no {DEPLOY_SEED} seed; rehearse needs one")


@dataclass(frozen=True)
class Plan:
    """What the rehearsal works from, checked before anything starts."""

    root: Path
    manifest: Any
    product_name: str
    problem_type: str
    deploys_elsewhere: bool = False  # staging and prod in the spoke's deploy accounts


def check_prerequisites() -> None:
    """SeedsError naming what the builds, pipeline steps and model servers need and lack:
    git, and the seeds' packages (hatchling builds the repos offline)."""
    if shutil.which("git") is None:
        raise SeedsError("rehearse needs git on PATH (the project's repositories are git)")
    missing = [
        name for module, name in PACKAGES.items() if importlib.util.find_spec(module) is None
    ]
    if missing:
        raise SeedsError(
            f"rehearse needs {', '.join(missing)} installed beside mlops-seeds: run "
            "`nox -s rehearse`, or `pip install --group seeds .` in a checkout"
        )


def prepare(options: Options) -> Plan:
    """Check prerequisites, read and check the manifest and the product (SeedsError on bad
    input), before anything starts."""
    check_prerequisites()
    root = repo_root()
    manifest = manifest_for(root, worlds.SPOKES, options.aws_managed_roles)
    product = find_product(manifest, options.product)
    check_scenario_needs(root, product, options)
    elsewhere = deploys_elsewhere(root, product)
    if elsewhere and options.aws_managed_roles:
        raise SeedsError(
            f"--product {product.key}: deploys to other accounts, which trust the project's "
            "own roles; not with --project-roles aws-managed"
        )
    return Plan(root, manifest, str(product.name), deploy_problem_type(root, product), elsewhere)


def run(options: Options, plan: Plan, echo: Echo, sandbox: Sandbox, directory: Path) -> Report:
    """Rehearse against a started sandbox whose environment is applied; returns the report.
    Its outcome says whether the scenario ended as it must; a stage that breaks ends the
    rehearsal with `error` set (and `trace`, the traceback) instead of raising."""
    report = Report(timeline=Timeline(echo), workdir=directory)
    scale, sandbox.time_scale = sandbox.time_scale, TIME_SCALE
    try:
        _play(options, plan, report, sandbox)
    except Exception as err:  # any failure of a stage: reported, then exit 1
        report.error = _failure(err)
        report.trace = traceback.format_exc()
    finally:
        sandbox.time_scale = scale
    return report


def _play(options: Options, plan: Plan, report: Report, sandbox: Sandbox) -> None:
    root, manifest, name, problem_type = (
        plan.root,
        plan.manifest,
        plan.product_name,
        plan.problem_type,
    )
    timeline = report.timeline
    directory = report.workdir
    scenario = options.scenario
    spoke = worlds.SPOKES[0]
    # The bootstrap makes the mlops-seeds launch role, used or not.
    made_launch_role = DEFAULT_LAUNCH_ROLE if options.aws_managed_roles else manifest.launch_role

    # The first spoke is the tooling account: its platform team serves staging and
    # production from accounts of their own (the products that read them deploy there).
    targets = (worlds.STAGING_ACCOUNT, worlds.PROD_ACCOUNT)
    accounts = f"hub, spokes {', '.join(worlds.SPOKES)}, staging {targets[0]}, prod {targets[1]}"
    with timeline.stage("accounts", accounts) as stage:
        world = worlds.connect(worlds.SPOKES + targets)
        for target in targets:  # before the projects that deploy there
            worlds.bootstrap_target(world, target, root / TARGET_BOOTSTRAP, spoke)
        for account in worlds.SPOKES:
            worlds.bootstrap_spoke(
                world,
                account,
                root / SPOKE_BOOTSTRAP,
                manifest.spokes.role_name,
                made_launch_role,
                targets if account == spoke else None,
            )
            studio_role = worlds.enable_projects(world, account)
        stage.detail = f"hub {world.hub_account}, Studio role {studio_role.split('/')[-1]}"

    seeds = root
    if scenario.expect == "upgraded":  # the platform team changes its own copy later
        seeds = upgrades.copy_seeds(root, directory)
        manifest = manifest_for(seeds, worlds.SPOKES, options.aws_managed_roles)
    with timeline.stage("admin", "publish the catalog to the hub, share it, spokes accept"):
        summary = publishing.publish(seeds, manifest, "servicecatalog")
        timeline.line(f"{summary.done} actions, {summary.calls.total} AWS calls")

    with timeline.stage("scientist", f"launch {name!r} from Studio in spoke {spoke}") as stage:
        studio = world.role_arn(spoke, worlds.STUDIO_ROLE_NAME, worlds.STUDIO_ROLE_PATH)
        scientist = act_as(SAGEMAKER, studio, "scientist")  # as Studio gives it
        product = projects.find_product(scientist, name)
        parameters = {"UseAwsManagedProjectRoles": "true"} if options.aws_managed_roles else {}
        project = projects.create_project(scientist, options.project_name, product, parameters)
        report.project = project
        stage.detail = f"project {project.name} ({project.id}), stack {project.stack_name}"

    runs = PipelineRuns(
        session=world.spokes[spoke],
        workdir=directory,
        sandbox_dir=sandbox.workdir,
        echo=timeline.line,
        approver=options.approver,
        stage_sessions=(
            {"staging": world.spokes[targets[0]], "prod": world.spokes[targets[1]]}
            if plan.deploys_elsewhere
            else {}
        ),
    )
    report.runs = runs
    with timeline.stage("git", "clone the project's repositories, commit and push"):
        build_repo = runs.clone(project.outputs["ModelBuildRepositoryCloneUrl"], "model-build")
        deploy_repo = runs.clone(project.outputs["ModelDeployRepositoryCloneUrl"], "model-deploy")
        if scenario.deploy_edit is not None:
            runs.push(deploy_repo, scenario.deploy_edit)
        runs.push(build_repo, scenario.build_edit)
    if scenario.expect == "upgraded":
        _build(report, "")
        if runs.failed_action() == "":
            _upgrade_act(report, seeds, manifest, world.spokes[spoke])
    else:
        _build_review_deploy(options, report, scientist, "")

    if scenario.second_edit is not None and runs.failed_action() == "":
        with timeline.stage("git 2", "the scientist pushes a second change"):
            runs.push(build_repo, scenario.second_edit)
        rows = feature_rows(build_repo / "pipelines" / "data" / f"{DATASETS[problem_type]}.csv")
        traffic = Traffic(runs.stage_session("prod"), f"{project.name}-prod", rows).start()
        try:
            _build_review_deploy(options, report, scientist, " 2")
        finally:
            traffic.stop()
        report.traffic = traffic.line()
        timeline.line(f"production traffic during the deployment: {report.traffic}")

    if scenario.expect == "retrained" and runs.failed_action() == "":
        rows = feature_rows(build_repo / "pipelines" / "data" / f"{DATASETS[problem_type]}.csv")
        _drift_act(report, scientist, rows)

    with timeline.stage("check", "what the project ended with") as stage:
        upgraded = (report.upgrade, seeds) if report.upgrade is not None else None
        report.outcome = check_outcome(
            runs, project, scenario, problem_type, report.checks, upgraded
        )
        report.resources = runs.resources()
        report.stage_resources = runs.stage_resources()
        stage.status = "ok" if report.outcome.passed else "failed"
        stage.detail = report.outcome.summary

    if options.delete_project:  # as the launch role, which must be allowed every deletion
        with timeline.stage("delete", f"the scientist deletes {project.name} in Studio") as stage:
            report.undeleted = projects.delete_project(scientist, project.name)
            if report.undeleted:  # the first resource's reason, as the account's admin sees it
                events = aws.client("cloudformation", world.spokes[spoke])
                report.undeleted += "; " + stack_events.failure_reason(events, project.stack_name)
            stage.status = "failed" if report.undeleted else "ok"
            stage.detail = report.undeleted or f"stack {project.stack_name} deleted"


def _drift_act(report: Report, scientist: Any, rows: list[str]) -> None:
    """Calm traffic and a check; shifted traffic, a check, the alarm; the retraining it
    starts (stages monitor, drift, retrain)."""
    timeline, runs, project = report.timeline, report.runs, report.project
    assert runs is not None and project is not None
    prod = runs.stage_session("prod")
    endpoint = f"{project.name}-prod"
    stacks = aws.client("cloudformation", prod).describe_stacks(
        StackName=project.outputs["ProdStackName"]
    )["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs") or []}
    starter = drift.check_starter(prod, outputs, scientist)  # as its schedule would start it
    with timeline.stage(
        "monitor", f"traffic like the training data to {endpoint}, a check"
    ) as stage:
        refused = len(runs.refusals)
        sent = drift.send(prod, endpoint, drift.repeated(rows, drift.CALM_ROWS))
        report.checks["calm"] = drift.check(runs, starter, prod, outputs)
        timeline.line(f"{sent} requests; {report.checks['calm'].line()}")
        _mark_refusals(stage, runs.refusals[refused:])
    with timeline.stage("drift", f"shifted traffic to {endpoint}, a check, the alarm") as stage:
        refused = len(runs.refusals)
        sent = drift.send(prod, endpoint, drift.shifted(drift.repeated(rows, drift.SHIFTED_ROWS)))
        report.checks["drifted"] = drift.check(runs, starter, prod, outputs)
        timeline.line(f"{sent} requests; {report.checks['drifted'].line()}")
        _mark_refusals(stage, runs.refusals[refused:])
    with timeline.stage("retrain", "the pipelines the alarm started") as stage:
        refused = len(runs.refusals)
        _mark_failures(stage, runs.run_pending(), runs.refusals[refused:])


def _build(report: Report, suffix: str) -> None:
    """The pending pipelines (the pushes'): stage build`suffix`."""
    runs = report.runs
    assert runs is not None
    with report.timeline.stage(
        f"build{suffix}", "the pushes' pipelines: source, build, SageMaker pipeline"
    ) as stage:
        refused = len(runs.refusals)
        _mark_failures(stage, runs.run_pending(), runs.refusals[refused:])


def _upgrade_act(report: Report, seeds: Path, manifest: Any, admin: Any) -> None:
    """Version 2 published from the platform team's changed seeds; the project upgraded to
    it by the spoke's admin; the seed update offered to its repositories on branches and
    merged; the merge's build (stages platform, upgrade, repos, build 2)."""
    timeline, runs, project = report.timeline, report.runs, report.project
    assert runs is not None and project is not None
    with timeline.stage("platform", "a seed and a template changed, version 2 published"):
        commit = upgrades.change_seeds(seeds)
        summary = publishing.publish(seeds, manifest, "servicecatalog")
        timeline.line(
            f"seeds {commit[:10]}: {summary.done} actions, {summary.calls.total} AWS calls"
        )
    with timeline.stage("upgrade", f"{project.name} to the newest artifact: plan, update") as stage:
        upgrades.admit_admin(admin)
        planned = upgrades.plan_and_upgrade(admin, project.name)
        for change in planned.changes:
            timeline.line(
                f"planned {change['Action']} {change['LogicalResourceId']} "
                f"({change['ResourceType']})"
            )
        report.upgrade = planned
        stage.detail = f"{planned.project.artifact_name} -> {planned.target_name}"
    with timeline.stage("repos", "each repository behind its seed: a branch, merged") as stage:
        offered = upgrades.offer_seed_updates(admin, project.name, seeds, report.workdir)
        clones = {
            "ModelBuild": runs.repos["model-build"],
            "ModelDeploy": runs.repos["model-deploy"],
        }
        for label, branch in offered.branches.items():
            if not branch:
                timeline.line(f"{label}: up to date with its seed")
                continue
            timeline.line(f"{label}: {branch} pushed: {'; '.join(offered.changes[label])}")
            runs.merge(clones[label], branch)  # the scientist reviews and merges it
        report.offered = offered.branches
    _build(report, " 2")


def _build_review_deploy(options: Options, report: Report, scientist: Any, suffix: str) -> None:
    """The pushes' build, the review of the newest package and the deploy pipeline (stages
    named build, review, deploy, with `suffix`)."""
    timeline, runs, project = report.timeline, report.runs, report.project
    assert runs is not None and project is not None
    with timeline.stage(
        f"build{suffix}", "the pushes' pipelines: source, build, SageMaker pipeline"
    ) as stage:
        _mark_failures(stage, runs.run_pending(), runs.refusals)

    group = project.outputs["ModelPackageGroupName"]
    registered = runs.packages(group)
    if not registered or registered[0].get("ModelApprovalStatus") != "PendingManualApproval":
        return
    with timeline.stage(
        f"review{suffix}", f"a reviewer decides on the new package of {group}"
    ) as stage:
        refused = len(runs.refusals)
        package = registered[0]
        decision = options.decide(package) if options.decide else options.scenario.decision
        projects.approve_latest(scientist, group, decision)
        runs.model_package_changed(group, package["ModelPackageArn"], decision)
        timeline.line(f"{package['ModelPackageArn']}: {decision}")
        _mark_refusals(stage, runs.refusals[refused:])

    with timeline.stage(
        f"deploy{suffix}", "the deploy pipeline: build, staging, test, prod"
    ) as stage:
        refused = len(runs.refusals)
        _mark_failures(stage, runs.run_pending(), runs.refusals[refused:])


def _mark_refusals(stage: Stage, refused: list[str]) -> None:
    """A stage in which EventBridge could not deliver an event (start a pipeline, notify a
    topic) shows it."""
    if refused:
        stage.status = "failed"
        stage.detail = "; ".join(refused)


def _mark_failures(stage: Stage, done: list[Run], refused: list[str]) -> None:
    """A stage whose pipeline runs failed, or whose pipelines EventBridge could not start,
    shows it (whether the scenario expected it or not)."""
    failures = [
        f"{run.record.pipeline} failed at {action.name}"
        for run in done
        if (action := run.record.failed_action) is not None
    ] + refused
    if failures:
        stage.status = "failed"
        stage.detail = "; ".join(failures)
    elif not done:
        stage.detail = "no pipeline started"


def clean(workdir: Path) -> None:
    """Remove the rehearsal's directory."""
    shutil.rmtree(workdir, ignore_errors=True)


def _failure(err: Exception) -> str:
    """One line for a stage's failure: the tool's own words, AWS's as aws.describe_failure
    words them, else the exception's type and message."""
    if isinstance(err, SeedsError):
        return str(err)
    if is_aws_failure(err):
        return aws.describe_failure(err)
    return f"{type(err).__name__}: {err}"
