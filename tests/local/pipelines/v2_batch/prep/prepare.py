"""A FrameworkProcessor script (SDK v2): its source folder unpacked in the code directory,
its requirements installed, run with `python` from PATH. It moves the label (last column
of the raw data) first, as the trainer reads it, and writes what it saw."""

import json
import os
import sys
from pathlib import Path

import numpy as np  # from requirements.txt (the image has it)
from columns import label_first  # beside this script in its source folder

raw = np.loadtxt("/opt/ml/processing/raw/raw.csv", delimiter=",", ndmin=2)
out = Path("/opt/ml/processing/train")
np.savetxt(out / "train.csv", label_first(raw), delimiter=",", fmt="%.4f")
seen = {"cwd": os.getcwd(), "prefix": sys.prefix}
Path("/opt/ml/processing/seen").joinpath("seen.json").write_text(json.dumps(seen))
