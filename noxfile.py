"""Developer and CI sessions: `nox` runs lint, tests and validate; see README."""

from pathlib import Path

import nox

# uv makes the environments in seconds where it is installed (.ci/run installs it); plain
# venv and pip otherwise.
nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests", "validate"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON = "3.11"
# The exact versions the sessions install (`nox -s lock` writes them from pyproject.toml):
# the same environment on every machine, and no online resolution, which backtracks through
# dozens of releases of the SDK's dependencies (about 40 s a session, measured with uv).
# checkov pins packaging below what the tests need, so the scanner has a file of its own.
CONSTRAINTS = {"dev": ("test", "lint"), "scan": ("scan",)}
# Every CloudFormation template: the products, the bootstraps, the deploy seed's endpoints.
PRODUCT_TEMPLATES = "templates/*.yaml"  # checked as Studio receives them (parts assembled)
CLOUDFORMATION = (
    "service_catalog/*-bootstrap.yaml",
    "seed_code/*/*/endpoint-config-template.yml",
)


def _bytecode(session: nox.Session) -> dict[str, str]:
    """Where the session's processes keep the bytecode of what they import: under its
    environment, beside no source. Where PYTHONDONTWRITEBYTECODE is set (as on the CI
    machines) and the environment was installed without bytecode (uv's default), every
    process would otherwise compile each module it imports, every time: about a quarter of
    a local pipeline run."""
    cache = Path(session.virtualenv.location) / "pycache"
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(cache)}


def _constraints(name: str) -> Path:
    return Path("constraints") / f"{name}.txt"


def _install(session: nox.Session, *groups: str) -> None:
    deps = [d for g in groups for d in nox.project.dependency_groups(PYPROJECT, g)]
    locked = "scan" if "scan" in groups else "dev"
    # pip too: uv makes environments without it, and the rehearsal's local builds run the
    # tool's pip (rehearse/pyenv.py).
    session.install("-c", str(_constraints(locked)), ".", "pip", *deps)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The tool's tests, including baking every seed combination and running each
    rendered repo's own test suite; one worker per core (pytest-xdist), the long tests
    stolen by whichever worker is free."""
    _install(session, "test")
    session.run(
        "pytest",
        *(session.posargs or ["-q", "-n", "auto", "--dist", "worksteal"]),
        env=_bytecode(session),
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check and mypy on the tool (with the seeds' packages, which
    the sandbox's model servers import)."""
    _install(session, "lint", "seeds")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("mypy", *(session.posargs or []))


@nox.session(python=PYTHON)
def validate(session: nox.Session) -> None:
    """`mlops-seeds validate` on the repository (cfn-lint, buildspecs, IAM, name lengths),
    then checkov over every CloudFormation template, the products as Studio receives them
    (skips justified in each resource's Metadata.checkov)."""
    _install(session, "scan")
    session.run("mlops-seeds", "validate", *session.posargs)
    assembled = Path(session.create_tmp()) / "assembled"
    assembled.mkdir(exist_ok=True)
    templates = []
    for product in sorted(Path().glob(PRODUCT_TEMPLATES)):
        target = assembled / product.name
        session.run("mlops-seeds", "template", str(product), "--output", str(target))
        templates.append(str(target))
    templates += sorted(str(p) for pattern in CLOUDFORMATION for p in Path().glob(pattern))
    session.run(
        "checkov",
        "--framework",
        "cloudformation",
        "--skip-download",  # offline: no Prisma Cloud guidelines or mappings
        "--compact",
        "--quiet",
        "--output",
        "cli",
        "--file",
        *templates,
    )


@nox.session(python=PYTHON, default=False)
def bake(session: nox.Session) -> None:
    """Render every seed option combination and run each rendered repo's tests."""
    _install(session, "test")
    session.run("pytest", "-m", "bake", *(session.posargs or ["-q"]), env=_bytecode(session))


# What the newest-SDK report takes past the pins: the SDK and the AWS clients.
NEWEST_SDK = ("sagemaker", "boto3", "botocore")


@nox.session(python=PYTHON, default=False)
def newest_sdk(session: nox.Session) -> None:
    """The seeds' own tests (every seed combination baked, each repo's suite run) against the
    newest SageMaker SDK, boto3 and botocore the registry offers, beside the pinned ones the
    tests session uses: a scheduled job's report (README, "Staying current"), not part of
    `nox`'s default sessions or of CI's gate."""
    _install(session, "test")
    session.install("--upgrade", *NEWEST_SDK)  # no constraints: the registry's newest
    session.run(
        "python",
        "-c",
        "from importlib.metadata import version; "
        f"print('newest:', ', '.join(f'{{n}} {{version(n)}}' for n in {NEWEST_SDK!r}))",
    )
    env = {**_bytecode(session), "MLOPS_SEEDS_NEWEST_SDK": " ".join(NEWEST_SDK)}
    session.run("pytest", "-m", "bake", *(session.posargs or ["-q"]), env=env)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks that print figures: the local runner against the bare scripts (the seed
    pipeline, and AWS's abalone pipeline with the built-in XGBoost algorithm),
    publishing 10 products to 5 spokes on the sandbox server, what the sandbox's signature
    check costs a request, and the rehearsal's stages (happy, canary-rollback, drift,
    upgrade)."""
    _install(session, "seeds")
    session.run("python", "benchmarks/local_runner.py", "--framework", "xgboost")
    session.run("python", "benchmarks/builtin_xgboost.py")
    session.run(
        "python",
        "benchmarks/local_runner.py",
        "--framework",
        "sklearn",
        "--problem-type",
        "classification",
    )
    session.run("python", "benchmarks/publish.py")
    session.run("python", "benchmarks/sandbox_auth.py")
    session.run(
        "python",
        "benchmarks/rehearse.py",
        "--scenario",
        "happy",
        "--scenario",
        "canary-rollback",
        "--scenario",
        "drift",
        "--scenario",
        "upgrade",
    )
    session.run(
        "python",
        "benchmarks/rehearse.py",
        "--scenario",
        "happy",
        "--product",
        "build-deploy-multi-account",
    )


# The seeds that ship a lock (requirements.lock beside their pyproject.toml): what their
# CodeBuild installs (`pip install -c requirements.lock .`), for CodeBuild's Linux and Python.
SEED_LOCKS = ("model-build", "model-deploy")
CODEBUILD_PLATFORM = "x86_64-manylinux_2_28"


def _lock_seeds(session: nox.Session) -> None:
    """Each seed's requirements.lock: its rendered runtime dependencies resolved for
    CodeBuild within constraints/dev.txt, so a build installs what the tests ran with."""
    scratch = Path(session.create_tmp()) / "seeds"
    for seed in SEED_LOCKS:
        rendered = scratch / seed
        if rendered.exists():
            session.run("rm", "-rf", str(rendered), external=True)
        session.run("mlops-seeds", "new", seed, "--no-input", "-o", str(rendered))
        (pyproject,) = rendered.glob("*/pyproject.toml")
        session.run(
            "uv",
            "pip",
            "compile",
            str(pyproject),
            "--constraint",
            str(_constraints("dev")),
            "--python-version",
            PYTHON,
            "--python-platform",
            CODEBUILD_PLATFORM,
            "--custom-compile-command",
            "nox -s lock",
            "--no-annotate",
            "--quiet",
            "--output-file",
            str(Path("seed_code") / seed / "{{cookiecutter.__repo_name}}" / "requirements.lock"),
        )


@nox.session(python=PYTHON, default=False)
def lock(session: nox.Session) -> None:
    """Write constraints/*.txt: the versions the sessions install, resolved with uv from
    pyproject.toml (the project's dependencies and the sessions' groups) for every platform
    and Python 3.11 and newer; then each seed's requirements.lock within them. Run it after
    changing a dependency; options after `--` go to `uv pip compile` of the constraints
    (e.g. `--upgrade-package sagemaker`)."""
    session.install("uv")
    for name, groups in CONSTRAINTS.items():
        session.run(
            "uv",
            "pip",
            "compile",
            "pyproject.toml",
            *(arg for group in groups for arg in ("--group", group)),
            "--universal",
            "--python-version",
            PYTHON,
            "--custom-compile-command",
            "nox -s lock",
            "--quiet",
            "--output-file",
            str(_constraints(name)),
            *session.posargs,
        )
    session.install("-c", str(_constraints("dev")), ".")
    _lock_seeds(session)


@nox.session(python=False, default=False)
def diagrams(session: nox.Session) -> None:
    """Render the README's pictures (docs/*.svg) from their text (docs/*.dot) with Graphviz's
    dot, which must be installed (Debian: apt-get install graphviz)."""
    for source in sorted(Path("docs").glob("*.dot")):
        session.run(
            "dot", "-Tsvg", str(source), "-o", str(source.with_suffix(".svg")), external=True
        )


@nox.session(python=PYTHON, default=False)
def rehearse(session: nox.Session) -> None:
    """The main job: `mlops-seeds rehearse`, a project's whole life on the embedded sandbox
    (publish, launch, push, build, approve, deploy to staging and prod). Options after
    `--` go to the command, e.g. `nox -s rehearse -- --scenario rejected`."""
    _install(session, "seeds")
    session.run("mlops-seeds", "rehearse", *session.posargs, env=_bytecode(session))
