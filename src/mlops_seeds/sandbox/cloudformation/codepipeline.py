"""AWS::CodePipeline::Pipeline -> moto's CodePipeline backend.

`get_pipeline` returns the pipeline as the API shapes it (camelCase): name, roleArn,
artifactStore (or artifactStores by region), stages with their actions (actionTypeId,
configuration with every value a string, input and output artifacts, runOrder, namespace),
pipelineType, executionMode, variables and triggers. Ref is the pipeline name; GetAtt
Version. The CloudFormation-only properties (RestartExecutionOnUpdate,
DisableInboundStageTransitions) are not part of the pipeline.
"""

from typing import Any

from moto.codepipeline.models import CodePipelineBackend, codepipeline_backends

from mlops_seeds.sandbox.cloudformation.casing import as_text, camel
from mlops_seeds.sandbox.cloudformation.resource import SandboxResource, tags

_CFN_ONLY = ("Name", "Tags", "RestartExecutionOnUpdate", "DisableInboundStageTransitions")


def _action(action: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = camel(action, opaque=frozenset({"Configuration"}))
    shaped["configuration"] = {
        str(k): as_text(v) for k, v in (action.get("Configuration") or {}).items()
    }
    shaped["runOrder"] = int(action.get("RunOrder", 1))
    shaped.setdefault("inputArtifacts", [])
    shaped.setdefault("outputArtifacts", [])
    return shaped


def pipeline_structure(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The API's PipelineDeclaration of the template's properties."""
    rest = {k: v for k, v in properties.items() if k not in (*_CFN_ONLY, "Stages")}
    pipeline: dict[str, Any] = {"name": name, **camel(rest)}
    if "ArtifactStores" in properties:
        pipeline["artifactStores"] = {
            str(s["Region"]): camel(s["ArtifactStore"]) for s in properties["ArtifactStores"]
        }
    pipeline["stages"] = [
        {
            **camel({k: v for k, v in stage.items() if k != "Actions"}),
            "actions": [_action(a) for a in stage.get("Actions") or []],
        }
        for stage in properties.get("Stages") or []
    ]
    pipeline.setdefault("pipelineType", "V1")
    return pipeline


class CodePipelinePipeline(SandboxResource):
    """A CodePipeline pipeline (executions stay moto's unless another extension runs them)."""

    TYPE = "AWS::CodePipeline::Pipeline"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = frozenset({"Version"})

    @property
    def _backend(self) -> CodePipelineBackend:
        return codepipeline_backends[self.context.account_id][self.context.region]

    def create(self) -> None:
        """CreatePipeline (the role must trust codepipeline.amazonaws.com, as moto checks)."""
        structure = pipeline_structure(self.name, self.properties)
        self._backend.create_pipeline(structure, tags(self.properties, "key", "value"))
        self.physical_id = self.name
        self.attributes = {"Version": str(structure["version"])}

    def update(self, properties: dict[str, Any]) -> None:
        """UpdatePipeline (its version goes up) and its tags."""
        structure = self._backend.update_pipeline(pipeline_structure(self.name, properties))
        pipeline = self._backend.pipelines[self.name]
        pipeline.tags = {t["key"]: t["value"] for t in tags(properties, "key", "value")}
        self.attributes = {"Version": str(structure["version"])}

    def remove(self) -> None:
        """DeletePipeline."""
        self._backend.delete_pipeline(self.name)
