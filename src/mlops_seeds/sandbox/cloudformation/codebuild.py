"""AWS::CodeBuild::Project -> moto's CodeBuild backend.

`batch_get_projects` returns the project as the API shapes it: source (with `buildspec`),
secondarySources, environment with its environmentVariables (type PLAINTEXT unless given),
serviceRole, artifacts, timeouts, tags. Ref is the project name; GetAtt Arn.
"""

from typing import Any

from moto.codebuild.models import CodeBuildBackend, codebuild_backends

from mlops_seeds.sandbox.cloudformation.casing import camel
from mlops_seeds.sandbox.cloudformation.resource import SandboxResource, tags

_RENAMES = {"BuildSpec": "buildspec"}


def _environment(properties: dict[str, Any]) -> dict[str, Any]:
    environment: dict[str, Any] = camel(properties.get("Environment") or {}, _RENAMES)
    environment["environmentVariables"] = [
        {
            "name": str(v["Name"]),
            "value": str(v.get("Value", "")),
            "type": v.get("Type", "PLAINTEXT"),
        }
        for v in (properties.get("Environment") or {}).get("EnvironmentVariables") or []
    ]
    return environment


class CodeBuildProject(SandboxResource):
    """A CodeBuild project (builds stay moto's: they run nothing)."""

    TYPE = "AWS::CodeBuild::Project"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = frozenset({"Arn"})

    @property
    def _backend(self) -> CodeBuildBackend:
        return codebuild_backends[self.context.account_id][self.context.region]

    def _put(self, properties: dict[str, Any]) -> None:
        metadata = self._backend.create_project(
            project_name=self.name,
            description=properties.get("Description"),
            project_source=camel(properties.get("Source") or {}, _RENAMES),
            artifacts=camel(properties.get("Artifacts") or {}, _RENAMES),
            environment=_environment(properties),
            service_role=str(properties.get("ServiceRole", "")),
            tags=tags(properties, "key", "value"),
            cache=camel(properties["Cache"]) if "Cache" in properties else None,
            timeout=int(properties.get("TimeoutInMinutes", 60)),
            queued_timeout=int(properties.get("QueuedTimeoutInMinutes", 480)),
            source_version=properties.get("SourceVersion"),
            logs_config=camel(properties["LogsConfig"]) if "LogsConfig" in properties else None,
            vpc_config=camel(properties["VpcConfig"]) if "VpcConfig" in properties else None,
        )
        for key in ("SecondarySources", "SecondaryArtifacts", "SecondarySourceVersions"):
            metadata[key[:1].lower() + key[1:]] = camel(properties.get(key) or [], _RENAMES)
        self.physical_id = self.name
        self.attributes = {"Arn": metadata["arn"]}

    def create(self) -> None:
        """CreateProject."""
        self._put(self.properties)

    def update(self, properties: dict[str, Any]) -> None:
        """UpdateProject (moto has none: the project is written again, its builds kept)."""
        history = self._backend.build_history.get(self.name, [])
        self._put(properties)
        self._backend.build_history[self.name] = history

    def remove(self) -> None:
        """DeleteProject."""
        self._backend.delete_project(self.name)
