"""Sandbox extension: SageMaker endpoints served by local model server processes.

CreateEndpoint/UpdateEndpoint/DeleteEndpoint start, replace and stop a model server per
production variant (`python -m mlops_seeds.sandbox.hosting.server`, standing in for the
SageMaker XGBoost and scikit-learn containers); sagemaker-runtime InvokeEndpoint forwards
to them. Imports of moto happen in install(), so the model server process stays light.
"""


def install() -> None:
    """Patch moto for this extension (idempotent)."""
    from mlops_seeds.sandbox.hosting import patches

    patches.install()


def reset() -> None:
    """Stop every model server and forget every deployment (moto's reset follows)."""
    from mlops_seeds.sandbox.hosting import capture, endpoints, processes, rollout

    rollout.stop_all()
    endpoints.stop_all()
    processes.stop_all()
    capture.forget_sessions()
