"""Built-in algorithms the runner trains locally, each a standalone script run in the step's
interpreter as the algorithm's container runs its trainer (see `training`)."""
