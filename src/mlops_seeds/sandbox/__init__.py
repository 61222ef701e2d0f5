"""The AWS sandbox: moto's server on 127.0.0.1 with the Service Catalog operations moto
lacks, reached through AWS_ENDPOINT_URL like real AWS."""

from mlops_seeds.sandbox.server import Sandbox

__all__ = ["Sandbox"]
