"""How a command ends when it fails: one line on stderr and an exit code, the traceback
only with --debug. The command group applies it to every command; a command that may also
be invoked on its own (as tests do) is made with `cls=OneLineCommand`.

Exit codes (see errors.py): 2 for bad input (SeedsError, usage errors), 1 when AWS or the
sandbox cannot be reached or refuses (AwsError, botocore's errors), 1 for an internal
error (any other exception), told as such.
"""

import re
from typing import IO, Any, NoReturn

import click

from mlops_seeds.errors import FAILED, SeedsError

# AWS's refusal sentence in any text (a log, an error message): "User: ARN is not authorized
# to perform: ACTION on resource: ARN because ..." or a service's "S is not authorized ...".
AWS_REFUSAL = re.compile(r"(?:User: )?\S+ is not authorized to perform: [^\n;\"]*")


def is_aws_failure(err: BaseException) -> bool:
    """Whether `err` is botocore's or boto3's (AWS unreachable, not letting in, or
    refusing), told by its module so that boto3 need not be imported to ask."""
    return type(err).__module__.startswith(("botocore.", "boto3."))


def failure_lines(err: Exception) -> tuple[int, list[str]]:
    """The exit code and the line(s) on stderr for an exception that ends a command: one
    line, except a manifest's errors, one line per problem."""
    if isinstance(err, SeedsError):
        lines = str(err).splitlines() or [type(err).__name__]
        return err.exit_code, [f"mlops-seeds: error: {line}" for line in lines]
    if is_aws_failure(err):
        from mlops_seeds.aws import describe_failure

        return FAILED, [f"mlops-seeds: error: {describe_failure(err)}"]
    message = " ".join(str(err).split())
    return FAILED, [
        f"mlops-seeds: internal error: {type(err).__name__}: {message} "
        "(rerun with --debug for the traceback)"
    ]


def debugging(ctx: click.Context) -> bool:
    """True when --debug was given to the command group."""
    return bool(ctx.find_root().params.get("debug"))


def end(ctx: click.Context, err: Exception) -> NoReturn:
    """End the command for `err`: its line(s) and exit code; re-raised under --debug."""
    if debugging(ctx):
        raise err
    code, lines = failure_lines(err)
    for line in lines:
        click.echo(line, err=True)
    ctx.exit(code)


class OneLineUsageError(click.UsageError):
    """A usage error told in one line, naming the command's help."""

    def show(self, file: IO[Any] | None = None) -> None:
        # The command path under the tool's own name, however the group was invoked.
        below = self.ctx.command_path.split(" ")[1:] if self.ctx is not None else []
        path = " ".join(["mlops-seeds", *below])
        message = self.format_message().rstrip(".")
        click.echo(f"mlops-seeds: error: {message} (see '{path} --help')", err=True, file=file)


def one_line(err: click.ClickException) -> click.ClickException:
    """A usage error as one line; other click errors (and a bare `mlops-seeds`, which
    shows the help) as they are."""
    keep = (OneLineUsageError, click.exceptions.NoArgsIsHelpError)
    if isinstance(err, click.UsageError) and not isinstance(err, keep):
        return OneLineUsageError(err.format_message(), err.ctx)
    return err


def guarded_invoke(invoke: Any, ctx: click.Context) -> Any:
    """`invoke(ctx)`, its failures ended in one line."""
    try:
        return invoke(ctx)
    except (click.exceptions.Exit, click.Abort):
        raise
    except click.ClickException as err:
        raise one_line(err) from None
    except Exception as err:
        end(ctx, err)


def guarded_context(make_context: Any, *args: Any, **kwargs: Any) -> click.Context:
    """`make_context(...)` (the parsing of a command line), a usage error in one line."""
    try:
        ctx: click.Context = make_context(*args, **kwargs)
    except click.ClickException as err:
        raise one_line(err) from None
    return ctx


class OneLineCommand(click.Command):
    """A command whose failures end in one line even when it is invoked on its own."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return guarded_context(super().make_context, info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return guarded_invoke(super().invoke, ctx)
