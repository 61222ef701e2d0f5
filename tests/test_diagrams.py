"""The README's pictures are rendered from the text kept beside them (docs/*.dot, rendered
with Graphviz by `nox -s diagrams`): each picture has the nodes and edges of its source."""

import html
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "docs").glob("*.dot"))
NODE = re.compile(r"^\s*([A-Za-z_][\w]*)\s*\[label=", re.MULTILINE)
EDGE = re.compile(r"^\s*([A-Za-z_]\w*)\s*->\s*([A-Za-z_]\w*)", re.MULTILINE)


def _svg_shapes(svg: str) -> tuple[set[str], set[tuple[str, str]]]:
    """Graphviz names each node and edge in a comment: <!-- name --> and <!-- a&#45;&gt;b -->."""
    comments = [html.unescape(c) for c in re.findall(r"<!-- (.*?) -->", svg)]
    edges = {tuple(c.split("->", 1)) for c in comments if "->" in c}
    nodes = {c for c in comments if re.fullmatch(r"[A-Za-z_]\w*", c)}
    return nodes, {(a, b) for a, b in edges}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_each_picture_is_its_source_rendered(source: Path) -> None:
    text = source.read_text()
    svg = source.with_suffix(".svg")
    assert svg.is_file(), f"{svg.name} missing: run nox -s diagrams"
    nodes, edges = _svg_shapes(svg.read_text())
    assert nodes == set(NODE.findall(text)), f"{svg.name} is stale: run nox -s diagrams"
    assert edges == set(EDGE.findall(text)), f"{svg.name} is stale: run nox -s diagrams"


def test_the_readme_shows_every_picture() -> None:
    readme = (ROOT / "README.md").read_text()
    assert SOURCES
    for source in SOURCES:
        assert f"](docs/{source.stem}.svg)" in readme, source.name
