"""Who may drive the sandbox: only requests signed (AWS Signature Version 4) with the
credentials the sandbox itself issued, sent to the loopback address and port it serves,
from no browser origin unless the user allowed that one. Refusals are AWS's own errors."""

from mlops_seeds.sandbox.auth.gate import Gate
from mlops_seeds.sandbox.auth.keys import Credentials, issued_credentials

__all__ = ["Credentials", "Gate", "issued_credentials"]
