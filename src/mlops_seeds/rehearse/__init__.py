"""`mlops-seeds rehearse`: a project's whole life on the sandbox, and the local CodeBuild,
CodePipeline, EventBridge routing and git pieces it runs on."""
