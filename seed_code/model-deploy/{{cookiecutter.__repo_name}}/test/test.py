"""Test the staging endpoint after deployment (see model_deploy.check_endpoint)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_deploy.check_endpoint import main

if __name__ == "__main__":
    sys.exit(main())
