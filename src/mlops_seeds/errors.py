"""The tool's own exceptions, and the exit codes the command line gives them.

- SeedsError: bad input the user can fix (seed, option, path, manifest): one line, exit 2.
- AwsError: AWS (or the sandbox) cannot be reached, or refused the credentials or a call:
  one line naming the endpoint and what to do, exit 1. botocore's own exceptions that reach
  the command line are told the same way.
- Anything else is a bug: one line saying so, exit 1 (the traceback with --debug).
"""

BAD_INPUT = 2
FAILED = 1


class SeedsError(Exception):
    """Bad input (seed, option, path, manifest): one line for the user and exit code 2."""

    exit_code = BAD_INPUT


class AwsError(SeedsError):
    """AWS could not be reached or refused: one line for the user and exit code 1.

    A SeedsError, so that callers which recover from a refusal (acting with the caller's
    own credentials when a role cannot be assumed) need not know the difference."""

    exit_code = FAILED
