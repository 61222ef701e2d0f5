"""Print the pipeline definition JSON; needs no AWS access and no credentials.

get-pipeline-definition                      # defaults: env contract, then cookiecutter
get-pipeline-definition --role-arn arn:aws:iam::111122223333:role/R -o pipeline.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.cli import add_common_options, ensure_region, quiet_sdk, resolve_settings
from pipelines.settings import PLACEHOLDER_ROLE_ARN, placeholder_bucket


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="get-pipeline-definition",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(parser)
    parser.add_argument("-o", "--output", type=Path, help="write to this file, not stdout")
    return parser.parse_args(argv)


def definition(args: argparse.Namespace) -> str:
    """The definition JSON, pretty-printed."""
    settings = resolve_settings(args)
    ensure_region(settings.region)
    quiet_sdk()
    from pipelines.pipeline import get_pipeline  # needs a region at import time

    pipeline = get_pipeline(
        region=settings.region,
        role=settings.role_arn or PLACEHOLDER_ROLE_ARN,
        default_bucket=settings.artifact_bucket
        or placeholder_bucket(settings.project_id, settings.region),
        pipeline_name=settings.pipeline_name,
        model_package_group_name=settings.model_package_group_name,
        base_job_prefix=args.base_job_prefix,
        code_uri_prefix=args.code_uri_prefix,
        input_data_uri=args.input_data_uri,
        kms_key_id=settings.kms_key_id,
    )
    return json.dumps(json.loads(pipeline.definition()), indent=2)


def main(argv: list[str] | None = None) -> int:
    """Build the definition and print or write it."""
    args = parse_args(argv)
    text = definition(args)
    if args.output:
        args.output.write_text(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
