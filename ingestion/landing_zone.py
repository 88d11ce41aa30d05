"""Where source files arrive: a local folder, or a GCS bucket prefix in production.

Ingestion never parses from the store itself: the DuckDB CSV reader and the sha256 ledger
want a local file, so a zone hands out *local copies* under the files' own names. A local
folder is its own copy (nothing is copied, so the folder path behaves exactly as before);
a bucket is downloaded into a temporary folder that lives as long as the ``with`` block.
Because the names are kept, ``ops.file_ledger.file_name`` and ``_source_file`` are the
same whichever zone delivered a file, and exactly-once holds across zones: content loaded
from a folder is skipped when it later arrives in the bucket.

Only files directly under the zone are listed; ``archive/`` and ``rejected/`` beneath it
hold the batch files whose fate is decided (a move is copy + delete on GCS, with the
reason written beside a rejected file as ``<name>.reason.txt``, as in a folder).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from config.settings import Settings, parse_gs_uri

if TYPE_CHECKING:
    from google.cloud.storage import Bucket, Client
    from prefect_gcp.cloud_storage import GcsBucket

Fate = Literal["archive", "rejected"]


class LandingZone(Protocol):
    """The operations ingestion needs from wherever files land."""

    @property
    def uri(self) -> str:
        """The zone, as a user would name it (a folder path or ``gs://bucket/prefix``)."""
        ...

    def uri_of(self, name: str) -> str:
        """One file of the zone, for messages that must point at the original."""
        ...

    def names(self, pattern: str = "*") -> list[str]:
        """Sorted names of the files directly under the zone that match ``pattern``."""
        ...

    def local_copies(self, names: Sequence[str]) -> AbstractContextManager[Path]:
        """A folder holding ``names`` under their own names, valid inside the block."""
        ...

    def file_away(self, name: str, fate: Fate, reason: str | None = None) -> None:
        """Move ``name`` to ``archive/`` or ``rejected/``, with ``reason`` beside it."""
        ...


@dataclass(frozen=True)
class LocalFolder:
    """A folder on this machine: the laptop default and what the tests use."""

    path: Path

    @property
    def uri(self) -> str:
        return str(self.path)

    def uri_of(self, name: str) -> str:
        return str(self.path / name)

    def names(self, pattern: str = "*") -> list[str]:
        return [p.name for p in sorted(self.path.glob(pattern))] if self.path.is_dir() else []

    @contextmanager
    def local_copies(self, names: Sequence[str]) -> Iterator[Path]:
        yield self.path

    def file_away(self, name: str, fate: Fate, reason: str | None = None) -> None:
        target = self.path / fate
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(str(self.path / name), target / name)
        if reason is not None:
            (target / f"{name}.reason.txt").write_text(f"{reason}\n", encoding="utf-8")


@dataclass
class GcsLandingZone:
    """A prefix of a GCS bucket, reached through a prefect-gcp ``GcsBucket`` block.

    The block supplies the bucket and its credentials (a service account, or Application
    Default Credentials such as workload identity); the prefix comes from the URI, not the
    block's ``bucket_folder``. Objects are addressed by full name through the block's
    client, and the bucket is never fetched (``get_bucket``): that needs
    ``storage.buckets.get``, which an object-only role such as Storage Object Admin lacks.
    """

    block: GcsBucket
    prefix: str = ""
    _client: Client | None = field(default=None, init=False, repr=False)

    @property
    def uri(self) -> str:
        return f"gs://{self.block.bucket}/{self.prefix}".rstrip("/")

    def uri_of(self, name: str) -> str:
        return f"gs://{self.block.bucket}/{self._object(name)}"

    def _object(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _storage(self) -> Client:
        if self._client is None:
            self._client = self.block.gcp_credentials.get_cloud_storage_client()
        return self._client

    def _bucket(self) -> Bucket:
        return self._storage().bucket(self.block.bucket)

    def names(self, pattern: str = "*") -> list[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        # the delimiter keeps archive/ and rejected/ (which only grow) out of the listing
        blobs = self._storage().list_blobs(self.block.bucket, prefix=start or None, delimiter="/")
        found = (blob.name[len(start) :] for blob in blobs)
        return sorted(n for n in found if n and fnmatch.fnmatchcase(n, pattern))

    @contextmanager
    def local_copies(self, names: Sequence[str]) -> Iterator[Path]:
        bucket = self._bucket()
        with tempfile.TemporaryDirectory(prefix="olist-landing-") as tmp:
            folder = Path(tmp)
            for name in names:
                bucket.blob(self._object(name)).download_to_filename(str(folder / name))
            yield folder

    def file_away(self, name: str, fate: Fate, reason: str | None = None) -> None:
        bucket = self._bucket()
        target = self._object(f"{fate}/{name}")
        if reason is not None:  # first, so a rejected file is never without its reason
            bucket.blob(f"{target}.reason.txt").upload_from_string(
                f"{reason}\n", content_type="text/plain; charset=utf-8"
            )
        source = bucket.blob(self._object(name))
        # a crash between copy and delete leaves the object in both places; the ledger
        # knows its fate, so the next run files it away again (the copy overwrites)
        bucket.copy_blob(source, bucket, target)
        source.delete()


def gcs_bucket(bucket: str, block_name: str | None = None) -> GcsBucket:
    """The ``GcsBucket`` block for ``bucket``: the saved block ``block_name`` if given,
    anonymous credentials when ``STORAGE_EMULATOR_HOST`` points at a local emulator, else
    Application Default Credentials. Secrets live in the block, never in our settings."""
    from prefect_gcp.cloud_storage import GcsBucket

    if block_name:
        block = GcsBucket.load(block_name)
        if block.bucket != bucket:
            raise ValueError(
                f"GcsBucket block {block_name!r} is for bucket {block.bucket!r}, "
                f"not {bucket!r}: point OLIST_GCS_BUCKET_BLOCK at a block for {bucket!r}"
            )
        return block
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        return GcsBucket(bucket=bucket, gcp_credentials=_emulator_credentials())
    return GcsBucket(bucket=bucket)


@functools.cache
def _emulator_credentials_type() -> type[Any]:
    """GcpCredentials always asks ``google.auth.default()`` for credentials, which fails
    (or probes the GCE metadata server) where there are none; an emulator wants none.
    Defined on first use so importing this module does not import prefect-gcp."""
    from google.auth.credentials import AnonymousCredentials
    from prefect_gcp import GcpCredentials

    class EmulatorGcpCredentials(GcpCredentials):
        """Anonymous credentials for a local GCS emulator (``STORAGE_EMULATOR_HOST``)."""

        _block_type_name = "Olist GCS Emulator Credentials"

        def block_initialization(self) -> None:
            pass  # the parent resolves a project through google.auth.default()

        def get_credentials_from_service_account(self) -> Any:
            return AnonymousCredentials()

    return EmulatorGcpCredentials


def _emulator_credentials() -> Any:
    return _emulator_credentials_type()()


def open_zone(location: str | Path, gcs_block: str | None = None) -> LandingZone:
    """A zone for a ``gs://`` URI or a folder path (another scheme is an error, not a
    folder of that name)."""
    if isinstance(location, str) and "://" in location:
        bucket, prefix = parse_gs_uri(location)
        return GcsLandingZone(gcs_bucket(bucket, gcs_block), prefix)
    return LocalFolder(Path(location))


def as_zone(location: Path | LandingZone) -> LandingZone:
    """Callers that predate zones pass a folder ``Path``; it is a ``LocalFolder``."""
    return LocalFolder(location) if isinstance(location, Path) else location


def source_zone(settings: Settings) -> LandingZone:
    return open_zone(settings.source_location, settings.gcs_bucket_block)


def batches_zone(settings: Settings) -> LandingZone | None:
    location = settings.batches_location
    return None if location is None else open_zone(location, settings.gcs_bucket_block)
