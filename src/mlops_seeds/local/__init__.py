"""Run a SageMaker pipeline definition on this machine, without Docker.

    from mlops_seeds.local import run_definition
    record = run_definition(definition_json, {"RmseThreshold": "40"})

Processing and training steps run their scripts on a local Python interpreter in a
temporary tree standing for the container's /opt/ml; inputs and outputs go through S3
(the sandbox or AWS, by AWS_ENDPOINT_URL) or local paths. See `runner.run_definition`.
"""

from mlops_seeds.local.record import ExecutionRecord, StepRecord
from mlops_seeds.local.runner import plan, run_definition

__all__ = ["ExecutionRecord", "StepRecord", "plan", "run_definition"]
