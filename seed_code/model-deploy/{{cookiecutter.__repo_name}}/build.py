"""Write the staging and prod CloudFormation template configurations (see model_deploy)."""

import sys

from model_deploy.build_config import main

if __name__ == "__main__":
    sys.exit(main())
