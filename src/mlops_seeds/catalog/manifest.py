"""The catalog as data: the model of service_catalog/portfolio.yaml and its loader.

`load_manifest` checks everything that can be checked without AWS (formats, files, seed
names and options, template parameters, duplicates) and reports every error at once,
one line each: `field.path: rule`.
"""

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from mlops_seeds.bounded_parsing import read_yaml as read_bounded_yaml
from mlops_seeds.catalog import rules, template_parts, templates
from mlops_seeds.errors import SeedsError
from mlops_seeds.seeds import Seed, check_settings, load_seeds

DEFAULT_MANIFEST = Path("service_catalog") / "portfolio.yaml"
TEMPLATES_DIR = "templates"
DEFAULT_LAUNCH_ROLE = "MlopsSeedsLaunchRole"
DEFAULT_SPOKE_ROLE = "MlopsSeedsSpokeRole"
# CreateProduct takes 20 tags: the manifest's, plus sagemaker:studio-visibility; the tool's
# mlops-seeds:product-key goes first and the rest follow by UpdateProduct AddTags.
MAX_USER_TAGS = 19


class ManifestError(SeedsError):
    """A manifest with errors; `errors` holds one `field.path: rule` line each."""

    def __init__(self, path: Path, errors: list[str]) -> None:
        self.path = path
        self.errors = errors
        super().__init__("\n".join(f"{path}: {line}" for line in errors))


def _text(value: Any) -> Any:
    """Refuse numbers where text is expected: YAML reads unquoted digits as a number, and an
    account id like 012345678901 would lose its leading zero."""
    if isinstance(value, bool | int | float):
        raise ValueError(f"{value!r} must be a quoted string (YAML read it as a number)")
    return value


Text = Annotated[str, BeforeValidator(_text)]
AccountId = Annotated[Text, AfterValidator(rules.account_id)]
OrgNode = Annotated[Text, AfterValidator(rules.organization_node)]
RoleName = Annotated[Text, AfterValidator(rules.role_name)]
Principal = Annotated[Text, AfterValidator(rules.principal)]
DomainId = Annotated[Text, AfterValidator(rules.domain_id)]
BucketName = Annotated[Text, AfterValidator(rules.bucket_name)]
Prefix = Annotated[Text, AfterValidator(rules.s3_prefix)]
Key = Annotated[Text, AfterValidator(rules.product_key)]
Version = Annotated[Text, AfterValidator(rules.version)]
Email = Annotated[Text, AfterValidator(rules.email)]
Url = Annotated[Text, AfterValidator(rules.url)]
TagKey = Annotated[Text, AfterValidator(rules.tag_key)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _unique(values: Iterable[str], what: str) -> None:
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise ValueError(f"duplicate {what}: {', '.join(repeated)}")


class Portfolio(_Model):
    """The hub portfolio, found by its display name."""

    display_name: Text = Field(min_length=1, max_length=100)
    description: Text = Field(default="", max_length=2000)
    provider: Text = Field(min_length=1, max_length=50)


class Support(_Model):
    """Where a product's users get help (Service Catalog support fields)."""

    email: Email | None = None
    url: Url | None = None
    description: Text = Field(default="", max_length=8191)


class SeedRef(_Model):
    """A seed a product carries, with the options it is rendered with."""

    name: Text
    options: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known_seed(cls, name: str, info: ValidationInfo) -> str:
        seeds = _seeds(info)
        if seeds is not None and name not in seeds:
            raise ValueError(
                f"unknown seed {name!r} (seed_code/cookiecutter.json has: "
                f"{', '.join(sorted(seeds))})"
            )
        return name

    @field_validator("options", mode="before")
    @classmethod
    def _options_as_text(cls, options: Any) -> Any:
        if isinstance(options, dict):
            return {k: _option_text(v) for k, v in options.items()}
        return options

    @field_validator("options")
    @classmethod
    def _valid_options(cls, options: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        seeds = _seeds(info)
        name = info.data.get("name")
        if seeds is None or name not in seeds:
            return options
        try:
            check_settings(seeds[name], options)
        except SeedsError as err:
            raise ValueError(str(err).removeprefix("--set ")) from err
        return options


def _option_text(value: Any) -> Any:
    """A scalar option as text (YAML's true -> 'true', 2 -> '2'); a list or mapping stays
    as it is, for the string check to refuse."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


def _seed_entry(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class Product(_Model):
    """One Service Catalog product: a project template and the seeds it carries."""

    key: Key
    name: Text = Field(min_length=1, max_length=8191)
    description: Text = Field(default="", max_length=8191)
    owner: Text = Field(min_length=1, max_length=8191)
    distributor: Text = Field(default="", max_length=8191)
    support: Support = Field(default_factory=Support)
    template: Text
    seeds: list[Annotated[SeedRef, BeforeValidator(_seed_entry)]] = Field(min_length=1)
    version: Version

    @field_validator("template")
    @classmethod
    def _template_file(cls, template: str, info: ValidationInfo) -> str:
        path = Path(template)
        if path.is_absolute() or ".." in path.parts or path.parts[:1] != (TEMPLATES_DIR,):
            raise ValueError(f"{template!r} must be a relative path under {TEMPLATES_DIR}/")
        if path.suffix not in {".yaml", ".yml"}:
            raise ValueError(f"{template!r} must be a .yaml or .yml file")
        root = _root(info)
        if root is not None:
            if not (root / path).is_file():
                raise ValueError(f"{template!r} does not exist")
            names = _template_parameters(root, template)
            absent = [p for p in templates.STUDIO_PARAMETERS if p not in names]
            if absent:
                raise ValueError(
                    f"{template!r} lacks the parameter(s) Studio sets: {', '.join(absent)}"
                )
        return template

    @field_validator("seeds")
    @classmethod
    def _seeds_match_template(cls, seeds: list[SeedRef], info: ValidationInfo) -> list[SeedRef]:
        _unique((s.name for s in seeds), "seed")
        root, template = _root(info), info.data.get("template")
        if root is None or template is None:
            return seeds
        wanted = {
            n for n in _template_parameters(root, template) if n.endswith(templates.SEED_KEY_SUFFIX)
        }
        carried = {templates.seed_parameter(s.name): s.name for s in seeds}
        for parameter, seed in sorted(carried.items()):
            if parameter not in wanted:
                raise ValueError(f"{template} has no parameter {parameter} for seed {seed!r}")
        missing = sorted(wanted - set(carried))
        if missing:
            raise ValueError(f"{template} takes {', '.join(missing)}: add the seed(s) it names")
        return seeds

    @field_validator("seeds")
    @classmethod
    def _shared_options_agree(cls, seeds: list[SeedRef], info: ValidationInfo) -> list[SeedRef]:
        known = _seeds(info)
        if known is None:
            return seeds
        chosen: dict[str, tuple[str, str]] = {}
        for ref in seeds:
            values = {**known[ref.name].defaults(), **ref.options}
            for option, value in sorted(values.items()):
                if option in chosen and chosen[option][1] != value:
                    other, other_value = chosen[option]
                    raise ValueError(
                        f"option {option} must agree across the product's seeds: "
                        f"{other!r} has {other_value!r}, {ref.name!r} has {value!r}"
                    )
                chosen.setdefault(option, (ref.name, value))
        return seeds


class Spokes(_Model):
    """Where the portfolio is shared, and the role assumed in each spoke account."""

    role_name: RoleName = DEFAULT_SPOKE_ROLE
    accounts: list[AccountId] = Field(default_factory=list)
    organization_nodes: list[OrgNode] = Field(default_factory=list)

    @field_validator("accounts", "organization_nodes")
    @classmethod
    def _no_repeats(cls, values: list[str]) -> list[str]:
        _unique(values, "entry")
        return values


class SeedBucket(_Model):
    """The hub bucket of seed zips and templates, under content-hash keys."""

    name: BucketName = "sagemaker-mlops-seeds-{account_id}-{region}"
    prefix: Prefix = ""


class S3Route(_Model):
    """Studio's S3 route: templates under s3://bucket/prefix, read by these domains."""

    bucket: BucketName
    prefix: Prefix = "sagemaker-projects/"
    domain_ids: list[DomainId] = Field(min_length=1)

    @field_validator("domain_ids")
    @classmethod
    def _no_repeats(cls, values: list[str]) -> list[str]:
        _unique(values, "domain id")
        return values


class Manifest(_Model):
    """service_catalog/portfolio.yaml."""

    portfolio: Portfolio
    products: list[Product] = Field(min_length=1)
    principals: list[Principal] = Field(default_factory=list)
    launch_role: RoleName = DEFAULT_LAUNCH_ROLE
    tags: dict[TagKey, Annotated[Text, Field(max_length=256)]] = Field(default_factory=dict)
    keep_active: Annotated[int, Field(ge=1, strict=True)] = 2
    seed_bucket: SeedBucket = Field(default_factory=SeedBucket)
    spokes: Spokes = Field(default_factory=Spokes)
    s3_route: S3Route | None = None

    @field_validator("principals")
    @classmethod
    def _no_repeats(cls, values: list[str]) -> list[str]:
        _unique(values, "principal")
        return values

    @field_validator("tags")
    @classmethod
    def _few_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        if len(tags) > MAX_USER_TAGS:
            raise ValueError(f"at most {MAX_USER_TAGS} tags (Service Catalog takes 20)")
        return tags

    def product(self, key: str) -> Product:
        """The product with this key."""
        return next(p for p in self.products if p.key == key)


def _template_parameters(root: Path, template: str) -> dict[str, Any]:
    """The Parameters of a product template, read within the parsing limits; ValueError
    (a field error) when it breaks one."""
    try:
        return templates.parameters(template_parts.template_text(root, template), template)
    except SeedsError as err:
        raise ValueError(str(err)) from None


def _root(info: ValidationInfo) -> Path | None:
    return (info.context or {}).get("root")


def _seeds(info: ValidationInfo) -> dict[str, Seed] | None:
    return (info.context or {}).get("seeds")


def field_path(loc: Iterable[int | str]) -> str:
    """('products', 1, 'template') -> 'products[1].template'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _message(error: Any) -> str:
    kind, msg = error["type"], str(error["msg"])
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


def _duplicate_keys(data: Any) -> list[str]:
    products = data.get("products") if isinstance(data, dict) else None
    if not isinstance(products, list):
        return []
    seen: dict[str, int] = {}
    errors = []
    for index, product in enumerate(products):
        key = product.get("key") if isinstance(product, dict) else None
        if not isinstance(key, str):
            continue
        if key in seen:
            errors.append(
                f"products[{index}].key: duplicate key {key!r} (see products[{seen[key]}])"
            )
        else:
            seen[key] = index
    return errors


def _loc_with_tag_keys(error: Any) -> tuple[Any, ...]:
    loc = tuple(error["loc"])
    # pydantic marks a bad dict key as (..., key, '[key]'); keep the key only.
    return tuple(p for p in loc if p != "[key]")


def read_yaml(path: Path) -> Any:
    """The parsed manifest file within the parsing limits (size, UTF-8, depth, aliases,
    duplicate keys: see bounded_parsing), or a one-line error naming the file and rule."""
    return read_bounded_yaml(path)


def validate_manifest(data: Any, root: Path, path: Path = DEFAULT_MANIFEST) -> Manifest:
    """The Manifest for parsed YAML `data`, or ManifestError with every problem."""
    if not isinstance(data, dict):
        raise ManifestError(path, ["(top level): must be a mapping"])
    context = {"root": root, "seeds": load_seeds(root)}
    errors = _duplicate_keys(data)
    try:
        manifest = Manifest.model_validate(data, context=context)
    except ValidationError as err:
        errors = [
            f"{field_path(_loc_with_tag_keys(e))}: {_message(e)}" for e in err.errors()
        ] + errors
        raise ManifestError(path, errors) from None
    if errors:
        raise ManifestError(path, errors)
    return manifest


def load_manifest(path: Path, root: Path) -> Manifest:
    """Read and check the manifest at `path` against the seeds repository at `root`."""
    return validate_manifest(read_yaml(path), root, path)
