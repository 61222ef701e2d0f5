"""Directory trees as zips and back: deterministic bytes for a given tree (entries sorted,
timestamps 1980-01-01, modes 644 or 755), and unpacking that never leaves its directory.
Seed zips, pipeline artifacts and seeded repositories all go through here."""

import io
import stat
import zipfile
from collections.abc import Collection
from pathlib import Path

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same tree gives the same bytes
SKIPPED = frozenset({"__pycache__", ".DS_Store"})  # what a working tree holds that no one ships


def zip_directory(directory: Path, skipped: Collection[str] = SKIPPED) -> bytes:
    """The files below `directory` as a zip with the directory's content at its root, leaving
    out any path with a part named in `skipped`."""
    buffer = io.BytesIO()
    files = sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and not set(skipped).intersection(p.relative_to(directory).parts)
    )
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in files:
            name = path.relative_to(directory).as_posix()
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system = 3  # unix, so that external_attr holds the mode
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def unzip_directory(data: bytes, directory: Path) -> Path:
    """Unpack the zip `data` into `directory` (made), executable bits kept; ValueError when
    a member would land outside it."""
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        for member in bundle.infolist():
            target = (root / member.filename).resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"zip member {member.filename} leaves its directory")
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bundle.read(member))
            if (member.external_attr >> 16) & 0o111:
                target.chmod(0o755)
    return directory
