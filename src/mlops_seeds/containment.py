"""Keep names, keys and paths that come from input inside the folder they belong to.

Every place where a resource name, an S3 key or a path from a definition becomes a file
path goes through `contained(base, *parts)`: the joined path is resolved (`..` and
symlinks followed) and refused unless it is `base` or below it. The callers check the
API's own name patterns first; this is the second line, for whatever those miss.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from mlops_seeds.errors import SeedsError


class PathEscape(SeedsError):
    """A name, key or path that would lead outside its folder."""


def contained(base: Path, *parts: str | PurePath, what: str = "path") -> Path:
    """`base` joined with `parts`, resolved; PathEscape unless it is inside `base`.

    `base` is resolved too, so a base reached through a symlink is fine; a part that is
    absolute, climbs with `..`, or passes through a symlink pointing elsewhere is not.
    `what` names the input in the message (e.g. "S3 key 'a/../../x'").
    """
    try:
        root = base.resolve()
        target = root.joinpath(*parts).resolve()
    except (OSError, RuntimeError, ValueError) as err:  # NUL bytes, symlink loops
        raise PathEscape(f"{what}: not a usable path ({err})") from None
    if target != root and root not in target.parents:
        raise PathEscape(f"{what}: must stay inside {root}")
    return target


def subfolder(base: Path, *names: str, what: str = "name") -> Path:
    """`base/names[0]/names[1]/...`, each name exactly one path component (not empty,
    `.`, `..`, and without a slash), resolved and inside `base`; PathEscape otherwise."""
    path = contained(base, *names, what=what)
    if path.relative_to(base.resolve()).parts != names:
        raise PathEscape(f"{what}: must be one folder name each")
    return path
