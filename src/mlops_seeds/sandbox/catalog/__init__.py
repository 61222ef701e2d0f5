"""Service Catalog operations moto 5.2.5 lacks, following the AWS API reference."""

from mlops_seeds.sandbox.catalog.install import install, installed, operations

__all__ = ["install", "installed", "operations"]
