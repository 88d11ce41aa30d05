"""Create or update the Prefect blocks and variables the GCP deployments read.

    python -m deployments.gcp_blocks --dry-run     # what would be saved, nothing is
    python -m deployments.gcp_blocks               # save to the current Prefect API

What it saves (names match deployments/gcp/prefect.yaml and docs/gcp.md):

- ``gcp-credentials/olist-gcp``: a prefect-gcp ``GcpCredentials`` block. Without a key file it
  holds only the project, and the credentials are Application Default Credentials wherever
  the block is loaded: on Cloud Run, the job's service account, so no key exists anywhere.
  With ``--key-file`` the key's *contents* are stored (encrypted by Prefect), because a path
  on this machine would not exist in the flow-run container.
- ``gcs-bucket/<OLIST_GCS_BUCKET_BLOCK>`` (default ``olist-landing``): the landing bucket, the
  bucket of ``OLIST_SOURCE_URI`` (ingestion/landing_zone.py checks that they agree).
- ``gcs-bucket/olist-results``: Prefect result storage
  (``PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK=gcs-bucket/olist-results``).
- Prefect variables ``olist_source_uri``, ``olist_batches_uri`` and
  ``olist_mlflow_tracking_uri``, which the deployments' ``{{ prefect.variables.* }}`` read
  at deploy time. Prefect replaces a *missing* variable with an empty string, and an empty
  location silently means "the container's own folder", so they are saved here, together.

Every value comes from a flag or the environment variable named in ``--help``; no value is a
secret except a key file's contents, which only ever travel inside the block.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from config.settings import parse_gs_uri

if TYPE_CHECKING:
    from prefect.blocks.core import Block

CREDENTIALS_BLOCK = "olist-gcp"
LANDING_BLOCK = "olist-landing"
RESULTS_BLOCK = "olist-results"  # fixed: prefect.yaml names it in the result-storage setting
RESULTS_FOLDER = "prefect-results"

# Prefect variable → the setting it carries (names used by deployments/gcp/prefect.yaml)
SOURCE_URI_VARIABLE = "olist_source_uri"
BATCHES_URI_VARIABLE = "olist_batches_uri"
MLFLOW_VARIABLE = "olist_mlflow_tracking_uri"


@dataclass(frozen=True)
class GcpSetup:
    """Where production lives: what the blocks and variables are built from."""

    project: str
    source_uri: str
    results_bucket: str
    mlflow_tracking_uri: str
    batches_uri: str | None = None
    key_file: Path | None = None
    credentials_block: str = CREDENTIALS_BLOCK
    landing_block: str = LANDING_BLOCK

    def __post_init__(self) -> None:
        landing, _ = parse_gs_uri(self.source_uri)
        for variable, uri in (("OLIST_BATCHES_URI", self.batches_uri),):
            bucket = None if uri is None else parse_gs_uri(uri)[0]
            if bucket is not None and bucket != landing:
                raise ValueError(
                    f"{variable} is in bucket {bucket!r} but OLIST_SOURCE_URI in "
                    f"{landing!r}: the flows reach both through one block "
                    f"({self.landing_block!r}), so they must share a bucket"
                )
        if self.mlflow_tracking_uri.startswith("sqlite:"):
            raise ValueError(
                "MLFLOW_TRACKING_URI is a SQLite file: in a Cloud Run job it vanishes with "
                "the container; point it at a tracking server"
            )

    @property
    def landing_bucket(self) -> str:
        return parse_gs_uri(self.source_uri)[0]


# --- building (no network) ---------------------------------------------------------------------
def _bucket_name(value: str) -> str:
    """``gs://name`` or ``name`` → ``name``."""
    return parse_gs_uri(value)[0] if "://" in value else value.strip("/")


def build_credentials(setup: GcpSetup) -> Block:
    """The ``GcpCredentials`` block.

    prefect-gcp resolves credentials when a block is *constructed* (``block_initialization``
    calls ``google.auth.default()``), which would fail, or probe the GCE metadata server,
    on a laptop without Application Default Credentials, and would check the wrong identity
    anyway: an ADC block is resolved where it is loaded. So an ADC block is built without
    that step (its only field, the project, needs no check). A key file is parsed locally
    (no network) through the normal constructor, which rejects a malformed key now."""
    from prefect_gcp import GcpCredentials

    if setup.key_file is None:
        return GcpCredentials.model_construct(project=setup.project)
    info = json.loads(Path(setup.key_file).expanduser().read_text(encoding="utf-8"))
    return GcpCredentials(service_account_info=info, project=setup.project)


def build_blocks(setup: GcpSetup) -> dict[str, Block]:
    """Block name → block, credentials first (the buckets reference it, so it is saved
    first and the buckets then point at the saved document)."""
    from prefect_gcp.cloud_storage import GcsBucket

    credentials = build_credentials(setup)
    return {
        setup.credentials_block: credentials,
        setup.landing_block: GcsBucket(bucket=setup.landing_bucket, gcp_credentials=credentials),
        RESULTS_BLOCK: GcsBucket(
            bucket=_bucket_name(setup.results_bucket),
            bucket_folder=RESULTS_FOLDER,
            gcp_credentials=credentials,
        ),
    }


def build_variables(setup: GcpSetup) -> dict[str, str]:
    """Prefect variable name → value. An unset batches location is saved empty on purpose:
    the deployments then run without order batches (a missing variable would do the same,
    but silently)."""
    return {
        SOURCE_URI_VARIABLE: setup.source_uri,
        BATCHES_URI_VARIABLE: setup.batches_uri or "",
        MLFLOW_VARIABLE: setup.mlflow_tracking_uri,
    }


def describe(blocks: Mapping[str, Block], variables: Mapping[str, str]) -> str:
    """What would be saved, secrets masked (as Prefect prints them), a nested block shown as
    a reference to the one it will point at."""
    from prefect.blocks.core import Block as BlockClass

    lines = []
    for name, block in blocks.items():
        shown = []
        for key in type(block).model_fields:
            value = getattr(block, key)
            if key == "block_type_slug":
                continue
            if isinstance(value, BlockClass):
                value = f"-> {_slug(blocks, value)}"
            elif key == "service_account_info" and value:
                value = "********"
            shown.append(f"{key}={value}")
        lines.append(f"block    {type(block).get_block_type_slug()}/{name}: {', '.join(shown)}")
    lines += [f"variable {name} = {value!r}" for name, value in variables.items()]
    return "\n".join(lines)


def _slug(blocks: Mapping[str, Block], target: Block) -> str:
    for name, block in blocks.items():
        if block is target:
            return f"{type(block).get_block_type_slug()}/{name}"
    return "(anonymous)"


# --- saving ------------------------------------------------------------------------------------
def save(blocks: Mapping[str, Block], variables: Mapping[str, str]) -> None:
    """Save (overwrite) every block, in order, then every variable, to the current Prefect
    API (``PREFECT_API_URL``; Prefect Cloud with ``PREFECT_API_KEY``)."""
    from prefect.variables import Variable

    for name, block in blocks.items():
        block.save(name, overwrite=True)
    for name, value in variables.items():
        Variable.set(name, value, overwrite=True)


# --- command line ------------------------------------------------------------------------------
def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.gcp_blocks",
        description=(
            "Save the Prefect blocks (GCP credentials, landing bucket, result storage) and "
            "variables (data locations, MLflow) that deployments/gcp/prefect.yaml reads. "
            "Each option defaults to the environment variable in brackets."
        ),
        epilog="See docs/gcp.md for the whole set-up, in order.",
    )

    def option(flag: str, var: str, help: str, default: str | None = None) -> None:
        parser.add_argument(
            flag, default=env.get(var) or default, help=f"{help} [{var}]", metavar=var
        )

    option("--project", "OLIST_BQ_PROJECT", "GCP project id (also BigQuery's)")
    option("--source-uri", "OLIST_SOURCE_URI", "gs://bucket/prefix where the 9 CSVs land")
    option("--batches-uri", "OLIST_BATCHES_URI", "gs://bucket/prefix for JSON order batches")
    option("--results-bucket", "OLIST_RESULTS_BUCKET", "bucket for Prefect results")
    option("--mlflow-tracking-uri", "MLFLOW_TRACKING_URI", "the MLflow tracking server")
    option(
        "--key-file",
        "OLIST_GCP_KEYFILE",
        "service-account JSON key to store in the block; omit for Application Default "
        "Credentials (the Cloud Run job's service account: preferred, no key)",
    )
    option(
        "--landing-block",
        "OLIST_GCS_BUCKET_BLOCK",
        "name of the landing GcsBucket block",
        LANDING_BLOCK,
    )
    option(
        "--credentials-block",
        "OLIST_GCP_CREDENTIALS_BLOCK",
        "name of the GcpCredentials block",
        CREDENTIALS_BLOCK,
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be saved and save nothing"
    )
    return parser


REQUIRED = {
    "project": "--project / OLIST_BQ_PROJECT",
    "source_uri": "--source-uri / OLIST_SOURCE_URI",
    "results_bucket": "--results-bucket / OLIST_RESULTS_BUCKET",
    "mlflow_tracking_uri": "--mlflow-tracking-uri / MLFLOW_TRACKING_URI",
}


def setup_from_args(args: argparse.Namespace) -> GcpSetup:
    missing = [flag for field, flag in REQUIRED.items() if not getattr(args, field)]
    if missing:
        raise ValueError("missing: " + ", ".join(missing))
    return GcpSetup(
        project=args.project,
        source_uri=args.source_uri,
        batches_uri=args.batches_uri or None,
        results_bucket=args.results_bucket,
        mlflow_tracking_uri=args.mlflow_tracking_uri,
        key_file=Path(args.key_file) if args.key_file else None,
        credentials_block=args.credentials_block,
        landing_block=args.landing_block,
    )


def main(
    argv: list[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: IO[str] = sys.stdout,
) -> int:
    parser = _parser(os.environ if environ is None else environ)
    args = parser.parse_args(argv)
    try:
        setup = setup_from_args(args)
        blocks, variables = build_blocks(setup), build_variables(setup)
    except (ValueError, OSError) as err:
        parser.error(str(err))
    print(describe(blocks, variables), file=stdout)
    if args.dry_run:
        print("dry run: nothing saved", file=stdout)
        return 0
    from config.settings import configure_runtime

    configure_runtime()
    save(blocks, variables)
    print(f"saved {len(blocks)} blocks and {len(variables)} variables", file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
