"""What publish uploads: seed zips, the check-in buildspec and the products' templates,
each under a content-addressed key.

A seed zip's key is the hash of everything its bake reads (the seed's files, the
buildspecs it copies in, the option values and the renderer's version), so `plan` knows
every key and every product's version id without rendering anything: a seed is rendered
(its hooks run) only when publish reads the zip's body to upload it. Zips are
deterministic (sorted entries, fixed timestamps and permissions), so the same inputs give
the same bytes on any machine, and a product's version id (the hash of its template with
the seed keys written in) changes exactly when the template or one of the seeds it
carries changes.
"""

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from mlops_seeds.archives import zip_directory
from mlops_seeds.catalog import template_parts, templates
from mlops_seeds.catalog.manifest import Manifest, Product
from mlops_seeds.provenance import hash_seed_files
from mlops_seeds.seeds import BUILDSPECS, Seed, bake, check_settings, load_seeds

CHECKIN_BUILDSPEC = "seed-checkin.yml"


def sha256(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    """One object to upload: its key in the seed bucket and its bytes, or the function
    that makes them (a seed zip is rendered only when its body is read)."""

    key: str
    content: bytes | Callable[[], bytes] = field(repr=False, compare=False)
    content_type: str

    @property
    def body(self) -> bytes:
        """The bytes to upload (rendered now if this is a seed zip not rendered yet)."""
        return self.content if isinstance(self.content, bytes) else self.content()

    @property
    def digest(self) -> str:
        """The SHA-256 of the body."""
        return sha256(self.body)

    @property
    def rendered(self) -> bool:
        """True when the body is known without rendering anything."""
        return isinstance(self.content, bytes)

    @property
    def summary(self) -> str:
        """A plan's detail of this upload, made without rendering: its size when known."""
        return f"{len(self.content)} bytes" if isinstance(self.content, bytes) else "seed zip"


@dataclass(frozen=True)
class ProductBuild:
    """A product's published template and the seed zips it points at."""

    product: Product
    template: Blob
    seeds: dict[str, Blob]

    @property
    def digest(self) -> str:
        """The product's version id: the hash of its template, seed keys written in."""
        return self.template.digest

    @property
    def artifact_name(self) -> str:
        """The provisioning artifact name: `<manifest version>-<hash[:12]>`."""
        return f"{self.product.version}-{self.digest[:12]}"


@dataclass(frozen=True)
class Artifacts:
    """Everything to upload to the seed bucket, and each product's build."""

    bucket: str
    blobs: tuple[Blob, ...]
    products: dict[str, ProductBuild]


# What renders a seed: another version may render other bytes from the same inputs.
RENDERER = f"cookiecutter {version('cookiecutter')}, jinja2 {version('jinja2')}"


def _seed_inputs(root: Path, seed: Seed, values: dict[str, str]) -> str:
    """A hash of everything a bake reads: the seed's files (names, modes, bytes), the
    buildspecs it copies in, the option values and the renderer's version."""
    digest = hashlib.sha256(json.dumps([RENDERER, sorted(values.items())]).encode())
    hash_seed_files(digest, root, seed)
    return digest.hexdigest()


# Rendered zips by _seed_inputs hash: a process that publishes again (a test, a benchmark,
# a long-lived session) renders a seed only when something it reads changed.
_RENDERED: dict[str, bytes] = {}


def forget_rendered() -> None:
    """Drop the rendered zips kept by this process."""
    _RENDERED.clear()


def seed_ident(root: Path, seed: Seed, options: dict[str, str]) -> str:
    """The content address of `seed` rendered with `options`, computed without rendering
    (the options are checked against the seed's rules first)."""
    check_settings(seed, options)
    return _seed_inputs(root, seed, {**seed.defaults(), **options})


def seed_zip(root: Path, seed: Seed, options: dict[str, str]) -> bytes:
    """The zip of `seed` rendered with `options` (rendered unless this process has it)."""
    ident = seed_ident(root, seed, options)
    if ident not in _RENDERED:
        with tempfile.TemporaryDirectory(prefix="mlops-seeds-publish-") as scratch:
            _RENDERED[ident] = zip_directory(bake(root, seed, Path(scratch) / ident, options))
    return _RENDERED[ident]


def _render_later(root: Path, seed: Seed, options: dict[str, str]) -> Callable[[], bytes]:
    return lambda: seed_zip(root, seed, options)


def _seed_blobs(root: Path, manifest: Manifest) -> dict[str, dict[str, Blob]]:
    """Product key -> seed name -> the seed's zip under its content-address key (nothing
    is rendered here)."""
    seeds = load_seeds(root)
    prefix = manifest.seed_bucket.prefix
    result: dict[str, dict[str, Blob]] = {}
    for product in manifest.products:
        result[product.key] = {}
        for ref in product.seeds:
            seed, options = seeds[ref.name], dict(ref.options)
            key = f"{prefix}seeds/{ref.name}/{seed_ident(root, seed, options)}.zip"
            body = _render_later(root, seed, options)
            result[product.key][ref.name] = Blob(key, body, "application/zip")
    return result


def build(root: Path, manifest: Manifest, bucket: str) -> Artifacts:
    """Everything the manifest's products need, for `bucket`: keys, templates and version
    ids now; seed zips are rendered only when their bodies are read (by publish)."""
    prefix = manifest.seed_bucket.prefix
    checkin_body = (root / BUILDSPECS / CHECKIN_BUILDSPEC).read_bytes()
    checkin_key = f"{prefix}buildspecs/seed-checkin/{sha256(checkin_body)}.yml"
    checkin = Blob(checkin_key, checkin_body, "text/yaml")
    blobs: dict[str, Blob] = {}
    products: dict[str, ProductBuild] = {}
    all_seeds = _seed_blobs(root, manifest)
    for product in manifest.products:
        seed_blobs = all_seeds[product.key]
        text = template_parts.template_text(root, product.template)
        values = {templates.BUCKET_PARAMETER: bucket}
        values.update({templates.seed_parameter(n): b.key for n, b in seed_blobs.items()})
        if templates.CHECKIN_BUILDSPEC_PARAMETER in templates.parameters(text):
            values[templates.CHECKIN_BUILDSPEC_PARAMETER] = checkin.key
            blobs[checkin.key] = checkin
        body = templates.set_defaults(text, values).encode()
        template = Blob(f"{prefix}templates/{product.key}/{sha256(body)}.yaml", body, "text/yaml")
        products[product.key] = ProductBuild(product, template, seed_blobs)
        blobs.update({b.key: b for b in [*seed_blobs.values(), template]})
    return Artifacts(bucket, tuple(blobs[k] for k in sorted(blobs)), products)
