"""The tool's own exception: bad input the user can fix."""


class SeedsError(Exception):
    """Bad input (seed, option, path, manifest): one line for the user and exit code 2."""
