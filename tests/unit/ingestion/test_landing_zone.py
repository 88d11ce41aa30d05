"""The landing zone: a local folder, and a GCS prefix through prefect-gcp's ``GcsBucket``.

GCS is stood in for by ``gcp-storage-emulator`` (a dev dependency; the ``gcs_emulator``
fixture of tests/conftest.py). Without the emulator these tests fail: they are never skipped.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import duckdb
import pytest

from config.settings import load_settings, parse_gs_uri
from contracts.sources import SOURCES
from ingestion import batches, cleaning, landing_zone
from ingestion import csv_files as ingest
from ingestion.csv_files import MissingSourceError, SchemaDriftError
from ingestion.landing_zone import GcsLandingZone, LocalFolder

LEDGER_COLUMNS = (
    "file_name, table_name, sha256, size_bytes, source_records, loaded, quarantined, status, "
    "message"
)


@pytest.fixture
def bucket(gcs_emulator: str) -> str:
    """A new, empty bucket in the emulator, made through the same block the code uses."""
    name = f"olist-{uuid.uuid4().hex[:12]}"
    landing_zone.gcs_bucket(name).create_bucket()
    return name


def _upload(bucket: str, files: dict[str, Path]) -> None:
    block = landing_zone.gcs_bucket(bucket)
    for object_name, path in files.items():
        block.upload_from_path(path, object_name)


def _objects(bucket: str) -> set[str]:
    return {blob.name for blob in landing_zone.gcs_bucket(bucket).list_blobs()}


def _ledger(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.sql(f"select {LEDGER_COLUMNS} from ops.file_ledger order by all").fetchall()


def _fingerprints(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> dict[str, tuple]:
    """Row count and an order-independent checksum of every table, load time left out."""
    out = {}
    for schema, table in con.sql(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in {schemas} order by all"
    ).fetchall():
        columns = ", ".join(
            f'"{c}"'
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? "
                "and table_name = ? and column_name not in ('_loaded_at', 'loaded_at') "
                "order by ordinal_position",
                [schema, table],
            ).fetchall()
        )
        out[f"{schema}.{table}"] = con.sql(
            f"select count(*), coalesce(sum(hash(row({columns}))::hugeint), 0) "
            f'from {schema}."{table}"'
        ).fetchall()[0]
    return out


def test_a_gs_uri_splits_into_bucket_and_prefix_and_nothing_else_passes() -> None:
    assert parse_gs_uri("gs://olist-landing/raw/olist/") == ("olist-landing", "raw/olist")
    assert parse_gs_uri("gs://olist-landing") == ("olist-landing", "")
    for bad in ("s3://olist/raw", "gs://", "gs:///raw", "olist-landing/raw"):
        with pytest.raises(ValueError, match="not a GCS location"):
            parse_gs_uri(bad)
    with pytest.raises(ValueError, match="not a GCS location"):
        landing_zone.open_zone("s3://olist/raw")


def test_settings_select_a_bucket_from_the_environment_and_a_flag_beats_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OLIST_SOURCE_URI", "gs://olist-landing/raw")
    monkeypatch.setenv("OLIST_BATCHES_URI", "gs://olist-landing/batches")
    monkeypatch.setenv("OLIST_GCS_BUCKET_BLOCK", "olist-landing")
    settings = load_settings()
    assert settings.source_location == "gs://olist-landing/raw"
    assert settings.batches_location == "gs://olist-landing/batches"
    assert settings.gcs_bucket_block == "olist-landing"
    assert load_settings(source_dir=tmp_path).source_location == tmp_path
    monkeypatch.setenv("OLIST_SOURCE_URI", "olist-landing/raw")
    with pytest.raises(ValueError, match="OLIST_SOURCE_URI"):
        load_settings()


def test_without_a_bucket_the_settings_name_the_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("OLIST_SOURCE_URI", "OLIST_BATCHES_URI", "OLIST_GCS_BUCKET_BLOCK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OLIST_BATCHES_DIR", str(tmp_path / "batches"))
    settings = load_settings(source_dir=tmp_path)
    assert settings.source_location == tmp_path
    assert settings.batches_location == tmp_path / "batches"
    assert landing_zone.source_zone(settings) == LocalFolder(tmp_path)


def test_a_saved_block_for_another_bucket_is_refused(
    monkeypatch: pytest.MonkeyPatch, gcs_emulator: str
) -> None:
    from prefect_gcp.cloud_storage import GcsBucket

    other = landing_zone.gcs_bucket("someone-elses-bucket")
    monkeypatch.setattr(GcsBucket, "load", classmethod(lambda cls, name: other))
    with pytest.raises(ValueError, match="someone-elses-bucket"):
        landing_zone.open_zone("gs://olist-landing/raw", gcs_block="prod-landing")
    zone = landing_zone.open_zone("gs://someone-elses-bucket/raw", gcs_block="prod-landing")
    assert isinstance(zone, GcsLandingZone) and zone.block is other


def test_a_bucket_lists_only_the_files_directly_under_its_prefix(
    bucket: str, tmp_path: Path
) -> None:
    payload = tmp_path / "x.json"
    payload.write_text("{}", encoding="utf-8")
    _upload(
        bucket,
        {
            name: payload
            for name in (
                "in/b.json",
                "in/a.json",
                "in/notes.txt",
                "in/archive/old.json",
                "in/rejected/bad.json",
                "in-other/c.json",
                "elsewhere.json",
            )
        },
    )
    zone = landing_zone.open_zone(f"gs://{bucket}/in/")
    assert zone.uri == f"gs://{bucket}/in"
    assert zone.names("*.json") == ["a.json", "b.json"]
    assert zone.names() == ["a.json", "b.json", "notes.txt"]
    with zone.local_copies(["a.json"]) as folder:
        assert (folder / "a.json").read_text(encoding="utf-8") == "{}"
    assert not folder.exists()  # the working copy does not outlive the block


def test_the_sample_lands_from_a_bucket_exactly_as_from_its_folder(
    sample_dir: Path, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _upload(bucket, {f"exports/olist/{s.file}": sample_dir / s.file for s in SOURCES})
    monkeypatch.setenv("OLIST_SOURCE_URI", f"gs://{bucket}/exports/olist")
    zone = landing_zone.source_zone(load_settings())
    assert isinstance(zone, GcsLandingZone)

    from_folder, from_bucket = duckdb.connect(), duckdb.connect()
    try:
        folder_result = ingest.ingest_zone(from_folder, LocalFolder(sample_dir), "b1")
        bucket_result = ingest.ingest_zone(from_bucket, zone, "b1")
        assert bucket_result.tables == folder_result.tables and len(bucket_result.tables) == 9
        for con, result in ((from_folder, folder_result), (from_bucket, bucket_result)):
            assert cleaning.clean_all(con, "b1", result.tables).committed
        assert _ledger(from_bucket) == _ledger(from_folder)
        assert {row[0] for row in _ledger(from_bucket)} == {s.file for s in SOURCES}
        tables = _fingerprints(from_bucket, ("bronze", "quarantine"))
        assert len(tables) >= 9 and tables == _fingerprints(from_folder, ("bronze", "quarantine"))
        # exactly-once holds across zones: the bucket's files were loaded from the folder
        again = ingest.ingest_zone(from_folder, zone, "b2")
        assert again.landed == [] and sorted(p.name for p in again.skipped) == sorted(
            s.file for s in SOURCES
        )
    finally:
        from_folder.close()
        from_bucket.close()


def test_a_missing_object_is_named_by_its_bucket_location(sample_dir: Path, bucket: str) -> None:
    _upload(bucket, {f"raw/{s.file}": sample_dir / s.file for s in SOURCES[1:]})
    zone = landing_zone.open_zone(f"gs://{bucket}/raw")
    with pytest.raises(MissingSourceError, match=rf"gs://{bucket}/raw: .*{SOURCES[0].file}"):
        ingest.ingest_zone(duckdb.connect(), zone, "b1")


def test_schema_drift_in_a_bucket_names_the_object(
    sample_dir: Path, bucket: str, tmp_path: Path
) -> None:
    orders = next(s for s in SOURCES if s.table == "orders")
    drifted = tmp_path / orders.file
    text = (sample_dir / orders.file).read_text(encoding="utf-8")
    drifted.write_text(text.replace("order_status", "status", 1), encoding="utf-8")
    files = {f"raw/{s.file}": sample_dir / s.file for s in SOURCES}
    _upload(bucket, files | {f"raw/{orders.file}": drifted})
    con = duckdb.connect()
    with pytest.raises(SchemaDriftError) as caught:
        ingest.ingest_zone(con, landing_zone.open_zone(f"gs://{bucket}/raw"), "b1")
    assert caught.value.file == f"gs://{bucket}/raw/{orders.file}"
    assert caught.value.column == "order_status"


def _deliver_batches(sample_dir: Path, folder: Path) -> dict[str, str]:
    """A good batch, the same bytes under another name, and a broken file."""
    from synthetic.batches import generate_batch

    batch = generate_batch(sample_dir, folder, n_orders=40, seed=5)
    shutil.copyfile(batch, folder / "resent.json")
    (folder / "broken.json").write_text('{"batch_id": "x", "orders": [', encoding="utf-8")
    return {"batch": batch.name, "resent": "resent.json", "broken": "broken.json"}


def _batch_round_trip(
    zone: landing_zone.LandingZone,
) -> tuple[batches.BatchIngest, dict[str, list[str]], list[tuple], int]:
    con = duckdb.connect()
    try:
        landed = batches.land_batches(con, zone, "r1")
        assert batches.clean_batches(con, "r1")[2], "the batch load did not commit"
        moved = batches.file_away(con, zone)
        orders = int(con.sql("select count(*) from bronze.batch_orders").fetchall()[0][0])
        return landed, moved, _ledger(con), orders
    finally:
        con.close()


def test_order_batches_move_from_a_bucket_to_archive_or_rejected_as_in_a_folder(
    sample_dir: Path, bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "landing"
    names = _deliver_batches(sample_dir, folder)
    _upload(bucket, {f"batches/{p.name}": p for p in folder.glob("*.json")})
    zone = landing_zone.open_zone(f"gs://{bucket}/batches")

    landed, moved, ledger, orders = _batch_round_trip(zone)
    assert [p.name for p in landed.landed] == [names["batch"]]
    assert [p.name for p in landed.skipped] == ["resent.json"]
    assert [reason.split(":")[0] for _, reason in landed.rejected] == ["broken.json"]
    assert moved == {
        "archive": sorted([names["batch"], "resent.json"]),
        "rejected": ["broken.json"],
    }
    assert orders == 40
    assert {(row[0], row[7]) for row in ledger} == {
        (names["batch"], "loaded"),
        ("broken.json", "rejected"),
    }
    assert _objects(bucket) == {
        f"batches/archive/{names['batch']}",
        "batches/archive/resent.json",
        "batches/rejected/broken.json",
        "batches/rejected/broken.json.reason.txt",
    }
    block = landing_zone.gcs_bucket(bucket)
    reason = block.read_path("batches/rejected/broken.json.reason.txt").decode("utf-8")
    assert reason.startswith("broken.json: ") and reason.endswith("\n")
    assert (
        block.read_path(f"batches/archive/{names['batch']}")
        == (folder / names["batch"]).read_bytes()
    )

    # the same delivery in a folder ends the same way
    folder_landed, folder_moved, folder_ledger, folder_orders = _batch_round_trip(
        LocalFolder(folder)
    )
    assert folder_moved == moved and folder_orders == orders
    assert folder_ledger == ledger
    archived = sorted(p.name for p in (folder / "archive").iterdir())
    assert archived == sorted(o.rsplit("/", 1)[1] for o in _objects(bucket) if "/archive/" in o)
    assert (folder / "rejected" / "broken.json.reason.txt").read_text(encoding="utf-8") == reason


def test_a_move_interrupted_after_the_copy_is_finished_next_time(
    sample_dir: Path, bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "landing"
    names = _deliver_batches(sample_dir, folder)
    batch = folder / names["batch"]
    _upload(bucket, {f"b/{batch.name}": batch, f"b/archive/{batch.name}": batch})
    zone = landing_zone.open_zone(f"gs://{bucket}/b")
    con = duckdb.connect()
    ingest.ensure_ledger(con)
    con.execute(
        "insert into ops.file_ledger values (?, 'order_batch', ?, 1, 40, 40, 0, 'r0', "
        "'loaded', now()::timestamp, now()::timestamp, null)",
        [batch.name, ingest.sha256_file(batch)],
    )
    assert batches.file_away(con, zone) == {"archive": [batch.name], "rejected": []}
    assert _objects(bucket) == {f"b/archive/{batch.name}"}
