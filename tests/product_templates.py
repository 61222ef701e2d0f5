"""The product templates as Studio receives them (assembled from their parts), for the tests
that read them: by name, or all of them (templates/*.yaml)."""

from pathlib import Path

from mlops_seeds.catalog import template_parts

ROOT = Path(__file__).resolve().parents[1]


def text(name: str, root: Path = ROOT) -> str:
    """templates/`name` as Studio receives it."""
    return template_parts.template_text(root, f"templates/{name}")


def names(root: Path = ROOT) -> list[str]:
    """The product templates' file names."""
    return sorted(p.name for p in (root / "templates").glob("*.yaml"))


def written(folder: Path, root: Path = ROOT) -> list[Path]:
    """Each product template as Studio receives it, written into `folder`."""
    paths = []
    for name in names(root):
        path = folder / name
        path.write_text(text(name, root))
        paths.append(path)
    return paths
