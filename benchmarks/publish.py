"""Benchmark `mlops-seeds publish` on the sandbox: 10 products, 5 spoke accounts and an OU.

Prints wall time and API calls (all, mutating) of a first publish, a no-change publish and
a publish after one seed changed. Run: python benchmarks/publish.py [--products N] [--spokes N]
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from mlops_seeds import aws
from mlops_seeds.catalog import publishing
from mlops_seeds.catalog.manifest import DEFAULT_MANIFEST, validate_manifest
from mlops_seeds.paths import repo_root
from mlops_seeds.sandbox import Sandbox

CHANGED_SEED_FILE = Path("seed_code/model-deploy/{{cookiecutter.__repo_name}}/README.md")


def manifest(source: Path, products: int, spokes: int, ou: str) -> dict[str, Any]:
    """The repository's manifest, its products cycled to `products` with distinct keys."""
    data = yaml.safe_load((source / DEFAULT_MANIFEST).read_text())
    base = data["products"]
    data["products"] = [
        {
            **base[i % len(base)],
            "key": f"p{i:02d}-{base[i % len(base)]['key']}",
            "name": f"{base[i % len(base)]['name']} #{i}",
        }
        for i in range(products)
    ]
    data["spokes"] = {
        "role_name": "MlopsSeedsSpokeRole",
        "accounts": [f"{100000000000 + i:012d}" for i in range(1, spokes + 1)],
        "organization_nodes": [ou],
    }
    return data


def organizational_unit() -> str:
    """An organization in the hub and an OU in it (org shares need one)."""
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root_id, Name="ml-teams")
    return str(unit["OrganizationalUnit"]["Id"])


def run(label: str, root: Path, data: dict[str, Any]) -> None:
    """Publish once and print the figures."""
    started = time.perf_counter()
    summary = publishing.publish(root, validate_manifest(data, root), "servicecatalog")
    seconds = time.perf_counter() - started
    print(
        f"{label:22} {seconds:7.2f} s  {summary.calls.total:5d} calls  "
        f"{summary.calls.mutating:5d} mutating  {len(summary.actions):4d} actions"
    )


def main() -> None:
    """Parse arguments, start the sandbox, publish three times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10)
    parser.add_argument("--spokes", type=int, default=5)
    args = parser.parse_args()
    source = repo_root()
    with tempfile.TemporaryDirectory() as scratch, Sandbox() as sandbox, sandbox.environment():
        root = Path(scratch)
        for part in ("seed_code", "templates", "buildspecs"):
            shutil.copytree(source / part, root / part)
        data = manifest(source, args.products, args.spokes, organizational_unit())
        print(
            f"{args.products} products, {args.spokes} spoke accounts + 1 OU, sandbox "
            f"{sandbox.endpoint_url}"
        )
        run("first publish", root, data)
        run("no-change publish", root, data)
        changed = root / CHANGED_SEED_FILE
        changed.write_text(changed.read_text() + "\nOne more line.\n")
        run("one seed changed", root, data)


if __name__ == "__main__":
    main()
