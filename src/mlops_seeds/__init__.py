"""mlops-seeds: SageMaker Pipelines project seeds and the tool that renders and checks them."""

__version__ = "0.1.0"
