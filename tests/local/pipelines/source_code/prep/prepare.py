"""A FrameworkProcessor script: its source folder unpacked in the code directory, its
requirements installed, run with `python3` from PATH; it writes what it saw."""

import json
import os
import sys
from pathlib import Path

import numpy  # from requirements.txt (the image has it)

out = Path("/opt/ml/processing/output")
out.mkdir(parents=True, exist_ok=True)
seen = {
    "cwd": os.getcwd(),
    "prefix": sys.prefix,
    "helper": Path("helper.txt").read_text().strip(),
    "numpy": numpy.__name__,
    "args": sys.argv[1:],
}
(out / "seen.json").write_text(json.dumps(seen))
