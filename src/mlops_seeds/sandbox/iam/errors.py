"""The evaluator's one error: a document that is not a valid IAM policy."""


class PolicyError(ValueError):
    """A document that is not a valid IAM policy (AWS answers MalformedPolicyDocument)."""
