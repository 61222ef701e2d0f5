"""CodeCommit repositories as real bare git repositories, and AWS::CodeCommit::Repository.

Deviation from AWS (the sandbox is offline): while a sandbox serves, every repository moto's
CodeCommit creates is also a bare git repository on disk, and `cloneUrlHttp` is that
repository's `file://` URL, so `git clone`/`git push` work against it. `cloneUrlSsh` keeps
CodeCommit's form. Deleting the repository deletes the directory.

The CloudFormation type seeds the repository from `Code.S3` (a zip in any account's bucket,
e.g. the hub's seed bucket) as one commit on `Code.BranchName` (default main), HEAD on it.
Ref is the repository id; GetAtt Arn, Name, CloneUrlHttp, CloneUrlSsh.
"""

import functools
import json
from collections.abc import Callable
from typing import Any

from moto.codecommit.exceptions import InvalidRepositoryNameException
from moto.codecommit.models import CodeCommitBackend, codecommit_backends
from moto.codecommit.responses import CodeCommitResponse
from moto.core.exceptions import JsonRESTError
from moto.s3.models import s3_backends

from mlops_seeds.resource_names import repository_name_violation
from mlops_seeds.sandbox.cloudformation import gitrepo
from mlops_seeds.sandbox.cloudformation.resource import SandboxResource
from mlops_seeds.sandbox.paging import BadToken, offset_page

_MARK = "_mlops_seeds_git"
_PAGE = 1000


class SeedNotFound(Exception):
    """The seed zip of a repository is not in the sandbox's S3."""


def seed_archive(bucket: str, key: str, version: str | None = None) -> bytes:
    """The bytes of s3://bucket/key, whichever sandbox account owns the bucket."""
    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        raise SeedNotFound(f"Code.S3: bucket {bucket} does not exist")
    partition, account_id = owner
    try:
        found = s3_backends[account_id][partition].get_object(bucket, key, version_id=version)
    except Exception as err:  # moto's S3 errors (no such version, ...)
        raise SeedNotFound(f"Code.S3: s3://{bucket}/{key} cannot be read: {err}") from err
    if found is None:
        raise SeedNotFound(f"Code.S3: s3://{bucket}/{key} does not exist")
    return bytes(found.value)


def check_repository_name(name: object) -> None:
    """InvalidRepositoryNameException unless `name` is a legal repository name (CodeCommit
    API reference: 1-100 characters of `[\\w.-]`, not `.` or `..`, no `.git` suffix). The
    API checks it before anything else, so a name never reaches the file system unchecked."""
    if repository_name_violation(name) is not None:
        raise InvalidRepositoryNameException()


def _with_git_create(create: Callable[..., dict[str, str]]) -> Callable[..., dict[str, str]]:
    @functools.wraps(create)
    def create_repository(
        self: CodeCommitBackend, repository_name: str, repository_description: str
    ) -> dict[str, str]:
        check_repository_name(repository_name)
        metadata = create(self, repository_name, repository_description)
        if gitrepo.git_root() is not None:
            try:
                path = gitrepo.repository_path(self.account_id, self.region_name, repository_name)
                gitrepo.remove(path)  # a leftover of a reset sandbox's same-named repository
                metadata["cloneUrlHttp"] = gitrepo.create_bare(path)
            except Exception:
                self.repositories.pop(repository_name, None)
                raise
        return metadata

    return create_repository


def _with_git_delete(delete: Callable[..., str | None]) -> Callable[..., str | None]:
    @functools.wraps(delete)
    def delete_repository(self: CodeCommitBackend, repository_name: str) -> str | None:
        check_repository_name(repository_name)
        repository_id = delete(self, repository_name)
        if repository_id is not None and gitrepo.git_root() is not None:
            gitrepo.remove(
                gitrepo.repository_path(self.account_id, self.region_name, repository_name)
            )
        return repository_id

    return delete_repository


def list_repositories(response: CodeCommitResponse) -> str:
    """ListRepositories (moto lacks it): names and ids, sorted by repositoryName or
    lastModifiedDate, ascending or descending, 1,000 a page with nextToken."""
    params = json.loads(response.body or "{}")
    sort_by = params.get("sortBy", "repositoryName")
    if sort_by not in ("repositoryName", "lastModifiedDate"):
        raise InvalidSortBy(f"sortBy {sort_by!r} is not repositoryName or lastModifiedDate")
    order = params.get("order", "ascending")
    if order not in ("ascending", "descending"):
        raise InvalidOrder(f"order {order!r} is not ascending or descending")
    backend = codecommit_backends[response.current_account][response.region]
    metadata = [r.repository_metadata for r in backend.repositories.values()]
    metadata.sort(key=lambda m: str(m[sort_by]), reverse=order == "descending")
    try:
        page, token = offset_page(metadata, str(params.get("nextToken") or ""), _PAGE)
    except BadToken as err:
        raise InvalidContinuationToken("The specified continuation token is not valid.") from err
    result: dict[str, Any] = {
        "repositories": [
            {"repositoryName": m["repositoryName"], "repositoryId": m["repositoryId"]} for m in page
        ]
    }
    if token:
        result["nextToken"] = token
    return json.dumps(result)


class InvalidSortBy(JsonRESTError):
    """CodeCommit's InvalidSortByException."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidSortByException", message)


class InvalidContinuationToken(JsonRESTError):
    """CodeCommit's InvalidContinuationTokenException."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidContinuationTokenException", message)


class InvalidOrder(JsonRESTError):
    """CodeCommit's InvalidOrderException."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidOrderException", message)


def install() -> None:
    """Make moto's CodeCommit repositories git repositories on disk, and add
    ListRepositories (once)."""
    if getattr(CodeCommitBackend, _MARK, False):
        return
    CodeCommitResponse.list_repositories = list_repositories  # type: ignore[attr-defined]
    CodeCommitBackend.create_repository = _with_git_create(  # type: ignore[method-assign]
        CodeCommitBackend.create_repository
    )
    CodeCommitBackend.delete_repository = _with_git_delete(  # type: ignore[method-assign]
        CodeCommitBackend.delete_repository
    )
    setattr(CodeCommitBackend, _MARK, True)


class CodeCommitRepository(SandboxResource):
    """A CodeCommit repository, seeded from a zip in S3."""

    TYPE = "AWS::CodeCommit::Repository"
    NAME_PROPERTY = "RepositoryName"
    ATTRIBUTES = frozenset({"Arn", "Name", "CloneUrlHttp", "CloneUrlSsh"})

    @property
    def _backend(self) -> CodeCommitBackend:
        return codecommit_backends[self.context.account_id][self.context.region]

    def create(self) -> None:
        """CreateRepository, then the seed commit (a missing seed fails the resource)."""
        code = self.properties.get("Code") or {}
        archive = None
        if code.get("S3"):
            s3 = code["S3"]
            archive = seed_archive(str(s3["Bucket"]), str(s3["Key"]), s3.get("ObjectVersion"))
        metadata = self._backend.create_repository(
            self.name, str(self.properties.get("RepositoryDescription", ""))
        )
        if archive is not None:
            path = gitrepo.repository_path(self.context.account_id, self.context.region, self.name)
            try:
                gitrepo.seed(path, archive, str(code.get("BranchName") or "main"))
            except Exception:
                self.remove()
                raise
        self.physical_id = metadata["repositoryId"]
        self.attributes = {
            "Arn": metadata["Arn"],
            "Name": self.name,
            "CloneUrlHttp": metadata["cloneUrlHttp"],
            "CloneUrlSsh": metadata["cloneUrlSsh"],
        }

    def update(self, properties: dict[str, Any]) -> None:
        """The description (Code is read at creation only, as in AWS)."""
        metadata = self._backend.get_repository(self.name)
        metadata["repositoryDescription"] = str(properties.get("RepositoryDescription", ""))

    def remove(self) -> None:
        """DeleteRepository (and its directory)."""
        self._backend.delete_repository(self.name)
