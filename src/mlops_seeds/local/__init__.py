"""Run a SageMaker pipeline definition on this machine, without Docker.

    from mlops_seeds.local import run_definition
    record = run_definition(definition_json, {"RmseThreshold": "40"})

Processing, training and transform steps run as their containers would: each in a folder
mounted at /opt/ml in a private mount namespace (`container_paths`), with a Python
environment of its own over the image interpreter's packages (`step_python`); inputs and
outputs go through S3 (the sandbox or AWS, by AWS_ENDPOINT_URL) or local paths, transform
jobs through the sandbox's model servers. See `runner.run_definition`.
"""

from mlops_seeds.local.record import ExecutionRecord, StepRecord
from mlops_seeds.local.runner import plan, run_definition

__all__ = ["ExecutionRecord", "StepRecord", "plan", "run_definition"]
