"""What publish uploads: seed zips, the check-in buildspec and the products' templates,
each under a key named by its content hash.

Zips are deterministic (sorted entries, fixed timestamps and permissions), so the same
seeds give the same bytes on any machine, and a product's version id (the hash of its
template with the seed keys written in) changes exactly when the template or one of the
seeds it carries changes.
"""

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlops_seeds.archives import zip_directory
from mlops_seeds.catalog import templates
from mlops_seeds.catalog.manifest import Manifest, Product
from mlops_seeds.seeds import BUILDSPECS, Seed, bake, load_seeds

CHECKIN_BUILDSPEC = "seed-checkin.yml"


def sha256(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    """One object to upload: its key in the seed bucket and its bytes."""

    key: str
    body: bytes = field(repr=False)
    content_type: str

    @property
    def digest(self) -> str:
        """The SHA-256 of the body."""
        return sha256(self.body)


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


def _seed_inputs(root: Path, seed: Seed, values: dict[str, str]) -> str:
    """A hash of everything a bake reads: the seed's files (names, modes, bytes), the
    buildspecs it copies in, and the option values."""
    digest = hashlib.sha256(json.dumps(sorted(values.items())).encode())
    files = sorted(p for p in seed.path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    files += [root / BUILDSPECS / name for name in sorted(seed.buildspecs)]
    for path in files:
        label = path.relative_to(root) if path.is_relative_to(root) else path
        digest.update(f"{label}:{path.stat().st_mode & 0o111}:".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# Rendered zips by _seed_inputs hash: a process that publishes again (a test, a benchmark,
# a long-lived session) renders a seed only when something it reads changed.
_RENDERED: dict[str, bytes] = {}


def forget_rendered() -> None:
    """Drop the rendered zips kept by this process."""
    _RENDERED.clear()


def seed_zip(root: Path, seed: Seed, options: dict[str, str], scratch: Path) -> bytes:
    """The zip of `seed` rendered with `options` (baked in `scratch` unless known)."""
    ident = _seed_inputs(root, seed, {**seed.defaults(), **options})
    if ident not in _RENDERED:
        _RENDERED[ident] = zip_directory(bake(root, seed, scratch / ident, options))
    return _RENDERED[ident]


def _seed_blobs(root: Path, manifest: Manifest) -> dict[str, dict[str, Blob]]:
    """Product key -> seed name -> the seed's zip under its content-hash key."""
    seeds = load_seeds(root)
    prefix = manifest.seed_bucket.prefix
    result: dict[str, dict[str, Blob]] = {}
    with tempfile.TemporaryDirectory(prefix="mlops-seeds-publish-") as scratch:
        for product in manifest.products:
            result[product.key] = {}
            for ref in product.seeds:
                body = seed_zip(root, seeds[ref.name], ref.options, Path(scratch))
                key = f"{prefix}seeds/{ref.name}/{sha256(body)}.zip"
                result[product.key][ref.name] = Blob(key, body, "application/zip")
    return result


def build(root: Path, manifest: Manifest, bucket: str) -> Artifacts:
    """Render, zip and hash everything the manifest's products need, for `bucket`."""
    prefix = manifest.seed_bucket.prefix
    checkin_body = (root / BUILDSPECS / CHECKIN_BUILDSPEC).read_bytes()
    checkin_key = f"{prefix}buildspecs/seed-checkin/{sha256(checkin_body)}.yml"
    checkin = Blob(checkin_key, checkin_body, "text/yaml")
    blobs: dict[str, Blob] = {}
    products: dict[str, ProductBuild] = {}
    all_seeds = _seed_blobs(root, manifest)
    for product in manifest.products:
        seed_blobs = all_seeds[product.key]
        text = (root / product.template).read_text()
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
