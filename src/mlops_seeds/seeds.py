"""Render a seed with cookiecutter, then copy in the buildspecs it names and record where the
repo came from (provenance.py).

Every option a seed offers is either a choice list or a free-text value with a pattern
declared in the seed's cookiecutter.json (`_patterns`: option -> {"regex", "rule"}); a
value is checked before anything renders, and the rendering itself runs in a sandboxed
Jinja environment, so an option value is only ever data.
"""

import importlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cookiecutter.environment import StrictEnvironment
from cookiecutter.exceptions import CookiecutterException, FailedHookException
from cookiecutter.main import cookiecutter
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from mlops_seeds.bounded_parsing import read_json
from mlops_seeds.errors import SeedsError
from mlops_seeds.names import check_project_id, check_project_name

INDEX = Path("seed_code") / "cookiecutter.json"
BUILDSPECS = Path("buildspecs")
PATTERNS_KEY = "_patterns"
# Options the tool checks itself (names.py), whether or not a seed declares a pattern.
NAME_RULES: dict[str, Callable[[str], None]] = {
    "project_name": check_project_name,
    "project_id": check_project_id,
}
SHOWN_VALUE_MAX = 60  # characters of a refused value quoted in an error


@dataclass(frozen=True)
class Pattern:
    """A free-text option's rule: the whole value must match `regex`; `rule` says it in
    words."""

    regex: str
    rule: str

    def matches(self, value: str) -> bool:
        """True when all of `value` matches (no trailing newline slips past `$`)."""
        return re.fullmatch(self.regex, value) is not None


@dataclass(frozen=True)
class Seed:
    """One cookiecutter template of the index and its cookiecutter.json."""

    name: str
    path: Path
    title: str
    description: str
    context: Mapping[str, Any]

    @property
    def options(self) -> dict[str, Any]:
        """The variables a user may set: neither private (`_x`) nor derived (`__x`)."""
        return {k: v for k, v in self.context.items() if not k.startswith("_")}

    @property
    def buildspecs(self) -> dict[str, str]:
        """buildspecs/ file name -> path inside the rendered repo."""
        return dict(self.context.get("_buildspecs", {}))

    @property
    def unsupported(self) -> list[dict[str, Any]]:
        """Option combinations the seed refuses; each entry may carry a `reason`."""
        return list(self.context.get("_unsupported", []))

    @property
    def patterns(self) -> dict[str, Pattern]:
        """Free-text option -> its declared Pattern (`_patterns` in cookiecutter.json)."""
        declared = self.context.get(PATTERNS_KEY, {})
        where = f"seed {self.name!r}: {PATTERNS_KEY}"
        if not isinstance(declared, dict):
            raise SeedsError(f"{where}: must map option names to {{regex, rule}}")
        patterns = {}
        for option, spec in declared.items():
            if not (
                isinstance(spec, dict)
                and isinstance(spec.get("regex"), str)
                and isinstance(spec.get("rule"), str)
            ):
                raise SeedsError(f"{where}.{option}: must be {{regex: ..., rule: ...}}")
            try:
                re.compile(spec["regex"])
            except re.error as err:
                raise SeedsError(f"{where}.{option}: bad regex ({err})") from None
            patterns[option] = Pattern(spec["regex"], spec["rule"])
        return patterns

    def defaults(self) -> dict[str, str]:
        """The value cookiecutter takes with --no-input for each option."""
        return {k: str(v[0] if isinstance(v, list) else v) for k, v in self.options.items()}


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SeedsError(f"{where}: must be a JSON object")
    return value


def load_seeds(root: Path) -> dict[str, Seed]:
    """The seeds listed in seed_code/cookiecutter.json, by name."""
    index_path = root / INDEX
    index = _mapping(
        _mapping(read_json(index_path), str(index_path)).get("templates", {}),
        f"{index_path}: templates",
    )
    seeds = {}
    for name, entry in index.items():
        entry = _mapping(entry, f"{index_path}: templates.{name}")
        if not isinstance(entry.get("path"), str):
            raise SeedsError(f"{index_path}: templates.{name}.path: must be a string")
        path = index_path.parent / entry["path"]
        context_path = path / "cookiecutter.json"
        seeds[name] = Seed(
            name=name,
            path=path.resolve(),
            title=str(entry.get("title", name)),
            description=str(entry.get("description", "")),
            context=_mapping(read_json(context_path), str(context_path)),
        )
    return seeds


def get_seed(root: Path, name: str) -> Seed:
    """The seed called `name`, or a SeedsError listing the known ones."""
    seeds = load_seeds(root)
    if name not in seeds:
        raise SeedsError(f"unknown seed {name!r}: choose one of {', '.join(sorted(seeds))}")
    return seeds[name]


def parse_settings(pairs: Iterable[str]) -> dict[str, str]:
    """Turn `KEY=VALUE` strings into a dict; a pair without `=` or key, or a key given
    twice, is an error."""
    settings: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SeedsError(f"--set {_shown(pair)}: expected KEY=VALUE")
        key = key.strip()
        if key in settings:
            raise SeedsError(f"--set {_key(key)}: given more than once (set each option once)")
        settings[key] = value
    return settings


def _key(key: str) -> str:
    """An option name as given, quoted when it is not a plain name."""
    return key if re.fullmatch(r"[\w.-]{1,64}", key) else _shown(key)


def _shown(value: str) -> str:
    """`value` quoted on one line, shortened when long."""
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_MAX else text[: SHOWN_VALUE_MAX - 4] + "..." + text[0]


def check_option_rules(seed: Seed) -> dict[str, Pattern]:
    """The seed's patterns; SeedsError when an option declares neither choices nor a
    pattern (a free-text option needs a rule before any value of it renders)."""
    patterns = seed.patterns
    for option, declared in seed.options.items():
        if isinstance(declared, list):
            if not declared:
                raise SeedsError(f"seed {seed.name!r}: option {option} has an empty choice list")
            continue
        if option not in patterns and option not in NAME_RULES:
            raise SeedsError(
                f"seed {seed.name!r}: option {option} declares neither choices nor a "
                f"pattern ({PATTERNS_KEY} in its cookiecutter.json)"
            )
    return patterns


def _check_value(seed: Seed, key: str, value: str, patterns: Mapping[str, Pattern]) -> str:
    """Why `value` is not allowed for option `key`, or '' when it is."""
    declared = seed.options[key]
    if isinstance(declared, list):
        choices = [str(c) for c in declared]
        return "" if value in choices else f"must be one of {', '.join(choices)}"
    pattern = patterns.get(key)
    if pattern is not None and not pattern.matches(value):
        return f"must match {pattern.regex} ({pattern.rule})"
    return ""


def check_settings(seed: Seed, settings: Mapping[str, str], origin: str = "--set") -> None:
    """Raise SeedsError for an unknown option, a value outside its choices or pattern, an
    option that declares neither, an illegal project name or id, or a combination the
    seed does not support. `origin` names where the values came from in the message."""
    options = seed.options
    for key in settings:
        if key not in options:
            raise SeedsError(
                f"{origin} {_key(key)}: not an option of seed {seed.name!r} "
                f"(options: {', '.join(sorted(options))})"
            )
    patterns = check_option_rules(seed)
    defaults = seed.defaults()
    for key, value in defaults.items():
        if key not in settings and (problem := _check_value(seed, key, value, patterns)):
            raise SeedsError(f"seed {seed.name!r}: default {key}={_shown(value)}: {problem}")
    for key, value in settings.items():
        if not isinstance(value, str):
            raise SeedsError(f"{origin} {key}: must be text")
        if key in NAME_RULES:
            NAME_RULES[key](value)
        if problem := _check_value(seed, key, value, patterns):
            raise SeedsError(f"{origin} {key}={_shown(value)}: {problem}")
    values = {**defaults, **settings}
    for name, check in NAME_RULES.items():
        if name in values:
            check(values[name])
    for combo in seed.unsupported:
        wanted = {k: str(v) for k, v in combo.items() if k != "reason"}
        if all(values.get(k) == v for k, v in wanted.items()):
            pairs = ", ".join(f"{k}={v}" for k, v in wanted.items())
            reason = f": {combo['reason']}" if "reason" in combo else ""
            raise SeedsError(f"seed {seed.name!r} does not support {pairs}{reason}")


def copy_buildspecs(root: Path, seed: Seed, repo: Path) -> None:
    """Copy each buildspec the seed names from buildspecs/ into the rendered repo."""
    for source_name, target in seed.buildspecs.items():
        source = root / BUILDSPECS / source_name
        if not source.is_file():
            raise SeedsError(f"seed {seed.name!r}: _buildspecs names missing file {source}")
        destination = repo / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def bake(
    root: Path,
    seed: Seed,
    output_dir: Path,
    settings: Mapping[str, str] | None = None,
    no_input: bool = True,
) -> Path:
    """Render `seed` into `output_dir` and return the new repo's path.

    Every option is checked before anything renders; the repo is rendered in a scratch
    directory beside its target and moved into place only when complete, so a failure
    leaves nothing behind. Relative paths are taken from the working directory."""
    settings = dict(settings or {})
    check_settings(seed, settings)
    root, output_dir = root.absolute(), output_dir.absolute()
    created_output = not output_dir.exists()
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SeedsError(f"-o {output_dir}: cannot create it ({err.strerror})") from None
    if not os.access(output_dir, os.W_OK | os.X_OK):
        raise SeedsError(f"-o {output_dir}: not writable")
    from mlops_seeds import provenance  # (it reads seeds: imported here, not at the top)

    try:
        with tempfile.TemporaryDirectory(dir=output_dir, prefix=".mlops-seeds-") as scratch:
            rendered, answers = _render(seed, Path(scratch), settings, no_input)
            copy_buildspecs(root, seed, rendered)
            provenance.write_record(rendered, provenance.record_for(root, seed, answers))
            target = output_dir / rendered.name
            if target.exists():
                raise SeedsError(f"{target}: already exists; choose another -o or remove it")
            rendered.rename(target)
    except BaseException:
        if created_output:
            shutil.rmtree(output_dir, ignore_errors=True)
        raise
    return target


class SandboxedStrictEnvironment(StrictEnvironment, SandboxedEnvironment):  # type: ignore[misc]
    """cookiecutter's StrictEnvironment (its extensions, undefined is an error) in Jinja's
    sandbox: templates reach no Python internals (`__globals__`, `__class__`, ...)."""


def sandboxed_env_with_context(context: dict[str, Any]) -> SandboxedStrictEnvironment:
    """cookiecutter.utils.create_env_with_context, sandboxed."""
    envvars = context.get("cookiecutter", {}).get("_jinja2_env_vars", {})
    return SandboxedStrictEnvironment(context=context, keep_trailing_newline=True, **envvars)


# The cookiecutter modules that build their Jinja environment with create_env_with_context.
_ENVIRONMENT_USERS = (
    "cookiecutter.utils",
    "cookiecutter.prompt",
    "cookiecutter.generate",
    "cookiecutter.hooks",
)
_BAKE_LOCK = threading.RLock()  # one bake at a time patches cookiecutter's modules


@contextmanager
def _patched(module: Any, name: str, value: Any) -> Iterator[None]:
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


@contextmanager
def sandboxed_cookiecutter(check_answers: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Within this block cookiecutter renders in SandboxedStrictEnvironment, and every
    answer (prompted or not) passes `check_answers` before any file or hook renders.
    Bakes in other threads wait; the modules are restored on the way out."""
    main = importlib.import_module("cookiecutter.main")
    original_prompt = main.prompt_for_config

    def checked_prompt(context: dict[str, Any], no_input: bool = False) -> Any:
        answers = original_prompt(context, no_input)
        check_answers(dict(answers))
        return answers

    with _BAKE_LOCK, _patched(main, "prompt_for_config", checked_prompt):
        saved = []
        try:
            for name in _ENVIRONMENT_USERS:
                module: Any = importlib.import_module(name)
                saved.append((module, module.create_env_with_context))
                module.create_env_with_context = sandboxed_env_with_context
            yield
        finally:
            for module, original in saved:
                module.create_env_with_context = original


class _HookTempfile:
    """The tempfile module as cookiecutter's hooks module sees it during a bake: the same,
    but NamedTemporaryFile makes its files in `directory`."""

    def __init__(self, directory: Path) -> None:
        self._directory = str(directory)

    def NamedTemporaryFile(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("dir", self._directory)
        return tempfile.NamedTemporaryFile(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(tempfile, name)


@contextmanager
def _hook_files_in(directory: Path) -> Iterator[None]:
    """cookiecutter 2.x writes each rendered hook to a temporary file it never deletes:
    its hooks module makes them in `directory` (inside the scratch folder they go with it).
    Only that module's view changes, so no other thread's temporary files move; bakes are
    serialised by sandboxed_cookiecutter."""
    hooks: Any = importlib.import_module("cookiecutter.hooks")
    saved = hooks.tempfile
    hooks.tempfile = _HookTempfile(directory)
    try:
        yield
    finally:
        hooks.tempfile = saved


def _render(
    seed: Seed, scratch: Path, settings: dict[str, str], no_input: bool
) -> tuple[Path, dict[str, str]]:
    """The rendered repo and the seed's options as answered."""
    hooks = scratch / ".hooks"
    hooks.mkdir()
    chosen: dict[str, str] = {}

    def check_answers(answers: dict[str, Any]) -> None:
        chosen.update({k: str(v) for k, v in answers.items() if k in seed.options})
        check_settings(seed, chosen, origin="answer")

    try:
        with sandboxed_cookiecutter(check_answers), _hook_files_in(hooks):
            path = cookiecutter(
                str(seed.path), no_input=no_input, extra_context=settings, output_dir=str(scratch)
            )
    except FailedHookException as err:
        raise SeedsError(
            f"seed {seed.name!r}: rejected by its pre-generation hook ({err})"
        ) from err
    except SecurityError as err:
        raise SeedsError(f"seed {seed.name!r}: template refused by the sandbox: {err}") from err
    except (CookiecutterException, TemplateError) as err:
        raise SeedsError(f"seed {seed.name!r}: {err}".replace("\n", " ")) from err
    return Path(path), chosen
