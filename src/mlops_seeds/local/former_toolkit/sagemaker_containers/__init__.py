"""The training toolkit under its former name, for scripts written against it.

AWS renamed `sagemaker-containers` to `sagemaker-training` (2020); the former package no
longer imports on Python 3.10 and later (it subclasses `collections.Mapping`). Each of its
modules is here the renamed one, by the rename's own map (`_env` -> `environment`,
`_modules` -> `modules`, ...), with the one renamed class (`TrainingEnv`) under its old
name too. Its model server modules (`_worker`, `_server`, `_transformer`) moved to another
toolkit with another API: they import, and using them raises an error that says so.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

# Former module (under sagemaker_containers) -> its module in sagemaker_training.
RENAMED = {
    "_content_types": "content_types",
    "_encoders": "encoders",
    "_entry_point_type": "_entry_point_type",
    "_env": "environment",
    "_errors": "errors",
    "_files": "files",
    "_functions": "functions",
    "_intermediate_output": "intermediate_output",
    "_logging": "logging_config",
    "_mapping": "mapping",
    "_modules": "modules",
    "_mpi": "mpi",
    "_params": "params",
    "_process": "process",
    "_recordio": "recordio",
    "_runner": "runner",
    "_timeout": "timeout",
    "_trainer": "trainer",
    "entry_point": "entry_point",
    "record_pb2": "record_pb2",
}
# Former names of renamed attributes, per former module.
OLD_NAMES = {"_env": {"TrainingEnv": "Environment"}}
SERVING = ("_server", "_transformer", "_worker")


class _ServingModule(types.ModuleType):
    """A former model-server module: importable, unusable, saying why."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"{self.__name__}.{name}: the former toolkit's model server moved to "
            "sagemaker-inference, with another API; the local runner's training steps have "
            "the renamed training toolkit only (sagemaker_training)"
        )


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `sagemaker_containers.<former>` and makes it the renamed module's contents."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        parent, _, leaf = fullname.rpartition(".")
        if parent != __name__ or (leaf not in RENAMED and leaf not in SERVING):
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        leaf = spec.name.rpartition(".")[2]
        if leaf in SERVING:
            return _ServingModule(spec.name)
        return types.ModuleType(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        leaf = module.__name__.rpartition(".")[2]
        if leaf in SERVING:
            return
        renamed = importlib.import_module(f"sagemaker_training.{RENAMED[leaf]}")
        module.__dict__.update({k: v for k, v in vars(renamed).items() if not k.startswith("__")})
        module.__doc__ = f"sagemaker_training.{RENAMED[leaf]}, under its former name."
        for old, new in OLD_NAMES.get(leaf, {}).items():
            setattr(module, old, getattr(renamed, new))


if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
    sys.meta_path.insert(0, _Alias())


def training_env() -> Any:
    """The job's training environment (the former `sagemaker_containers.training_env()`)."""
    framework = importlib.import_module(f"{__name__}.beta.framework")
    return framework.training_env()
