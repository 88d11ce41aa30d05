from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from contracts.sources import SOURCES
from ingestion import csv_files as ingest
from ingestion.csv_files import MissingSourceError, SchemaDriftError

ORDERS = next(s for s in SOURCES if s.table == "orders")
CUSTOMERS = next(s for s in SOURCES if s.table == "customers")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("header", "column", "message"),
    [
        (
            "customer_id,customer_unique_id,customer_zip_code,customer_city,customer_state",
            "customer_zip_code_prefix",
            "missing",
        ),
        (
            "customer_id,customer_unique_id,customer_city,customer_zip_code_prefix,customer_state",
            "customer_zip_code_prefix",
            "expected at position 3",
        ),
        (
            "customer_id,customer_unique_id,customer_zip_code_prefix,customer_city,customer_state,vip",
            "vip",
            "unexpected extra column",
        ),
        (
            "customer_id,customer_unique_id,customer_zip_code_prefix,customer_city",
            "customer_state",
            "missing",
        ),
    ],
)
def test_header_drift_names_the_file_and_the_column(
    tmp_path: Path, header: str, column: str, message: str
) -> None:
    path = _write(tmp_path / CUSTOMERS.file, header + "\n")
    with pytest.raises(SchemaDriftError) as err:
        ingest.check_header(CUSTOMERS, path)
    assert err.value.column == column
    assert message in str(err.value)
    assert CUSTOMERS.file in str(err.value)


def test_a_bom_is_not_drift(tmp_path: Path) -> None:
    path = tmp_path / CUSTOMERS.file
    path.write_bytes(b"\xef\xbb\xbf" + ",".join(CUSTOMERS.columns).encode() + b"\n")
    ingest.check_header(CUSTOMERS, path)


def test_missing_files_are_listed(tmp_path: Path) -> None:
    with pytest.raises(MissingSourceError, match="olist_orders_dataset.csv"):
        ingest.resolve_sources(tmp_path)


def test_drift_in_one_file_writes_nothing(tmp_path: Path, sample_dir: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(sample_dir, source)
    text = (source / ORDERS.file).read_text(encoding="utf-8")
    (source / ORDERS.file).write_text(text.replace("order_status", "status", 1), encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    with pytest.raises(SchemaDriftError, match="order_status"):
        ingest.ingest_folder(con, source, "b1")
    assert con.sql("select count(*) from information_schema.tables").fetchall()[0][0] == 0


def test_strict_parse_keeps_text_and_quarantines_ragged_rows(tmp_path: Path) -> None:
    header = ",".join(CUSTOMERS.columns)
    path = _write(
        tmp_path / CUSTOMERS.file,
        header + "\n"
        "c1,u1,01012,são paulo,SP\n"
        "c2,u2,NA,null,RJ\n"
        "c3,u3,99999,too,many,columns\n"
        'c4,u4,20000,"rio\nde janeiro",RJ\n',
    )
    con = duckdb.connect()
    for schema in ("landing", "quarantine"):
        con.execute(f"create schema {schema}")
    from datetime import datetime

    landed = ingest.land_file(con, CUSTOMERS, path, "b1", datetime(2026, 1, 1))
    assert (landed.loaded, landed.rejected) == (3, 1)
    rows = con.sql(
        "select customer_id, customer_zip_code_prefix, customer_city "
        "from landing.customers order by 1"
    ).fetchall()
    assert rows == [
        ("c1", "01012", "são paulo"),
        ("c2", "NA", "null"),
        ("c4", "20000", "rio\nde janeiro"),
    ]
    line, raw, reason = con.sql(
        "select line, raw_text, reason from quarantine.parse_errors"
    ).fetchall()[0]
    assert line == 4 and raw.startswith("c3,u3") and "Expected Number of Columns" in reason


def _land(tmp_path: Path, name: str, content: bytes):
    from datetime import datetime

    path = tmp_path / name
    path.write_bytes(content)
    ingest.check_header(CUSTOMERS, path)
    con = duckdb.connect()
    for schema in ("landing", "quarantine"):
        con.execute(f"create schema {schema}")
    landed = ingest.land_file(con, CUSTOMERS, path, "b1", datetime(2026, 1, 1))
    return con, landed


HEADER = ",".join(CUSTOMERS.columns).encode()


def test_an_unterminated_quote_quarantines_the_record_with_every_byte_it_swallowed(
    tmp_path: Path,
) -> None:
    con, landed = _land(
        tmp_path,
        CUSTOMERS.file,
        HEADER + b"\nc1,u1,01012,sao paulo,SP\n"
        b'c2,u2,20000,"rio de janeiro,RJ\nc3,u3,30000,belo horizonte,MG\n'
        b'c4,u4,40000,"porto" alegre,RS\n',
    )
    assert (landed.loaded, landed.rejected) == (1, 1)
    line, raw, reason = con.sql(
        "select line, raw_text, reason from quarantine.parse_errors"
    ).fetchall()[0]
    assert line == 3 and "unterminated quote" in reason
    assert "c2,u2" in raw and "c3,u3,30000,belo horizonte,MG" in raw  # nothing lost


def test_a_file_ending_inside_a_quoted_value_is_refused_as_cut_short(tmp_path: Path) -> None:
    with pytest.raises(ingest.TruncatedFileError) as err:
        _land(
            tmp_path,
            CUSTOMERS.file,
            HEADER + b'\nc1,u1,01012,sao paulo,SP\nc2,u2,20000,"rio de jan',
        )
    message = str(err.value)
    assert CUSTOMERS.file in message and "'customer_city'" in message and "line 3" in message


def test_a_file_cut_inside_its_last_record_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ingest.TruncatedFileError) as err:
        _land(tmp_path, CUSTOMERS.file, HEADER + b"\nc1,u1,01012,sao paulo,SP\nc2,u2,200")
    assert CUSTOMERS.file in str(err.value) and "line 3" in str(err.value)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xf3" * 40, "gzip-compressed"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml\xe3", "zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "legacy Excel"),
    ],
)
def test_compressed_or_workbook_bytes_named_csv_say_what_they_are(
    tmp_path: Path, content: bytes, kind: str
) -> None:
    path = tmp_path / CUSTOMERS.file
    path.write_bytes(content)
    with pytest.raises(ingest.SourceFormatError) as err:
        ingest.check_header(CUSTOMERS, path)
    message = str(err.value)
    assert str(path) in message and kind in message and "latin1" not in message


def test_a_huge_value_is_quarantined_as_too_long_with_its_raw_text(tmp_path: Path) -> None:
    city = b"x" * (50 * 1024 * 1024)
    con, landed = _land(
        tmp_path,
        CUSTOMERS.file,
        HEADER + b'\nc1,u1,01012,sao paulo,SP\nc2,u2,20000,"' + city + b'",RJ\nc3,u3,1,bh,MG\n',
    )
    assert (landed.loaded, landed.rejected) == (2, 1)
    line, raw, error_type, reason = con.sql(
        "select line, raw_text, error_type, reason from quarantine.parse_errors"
    ).fetchall()[0]
    assert (line, error_type) == (3, "VALUE TOO LONG")
    assert "'customer_city'" in reason and f"{len(city):,} bytes" in reason
    assert raw.startswith('c2,u2,20000,"xxx') and len(raw) == 10_000


def test_latin1_rows_are_quarantined_with_an_encoding_reason(tmp_path: Path) -> None:
    con, landed = _land(
        tmp_path, CUSTOMERS.file, HEADER + b"\nc1,u1,01012,s\xe3o paulo,SP\nc2,u2,20000,rio,RJ\n"
    )
    assert (landed.loaded, landed.rejected) == (1, 1)
    line, error_type = con.sql("select line, error_type from quarantine.parse_errors").fetchall()[0]
    assert (line, error_type) == (2, "INVALID ENCODING")


def test_a_latin1_header_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / CUSTOMERS.file
    path.write_bytes(b"customer_id,customer_unique_id,c\xf3digo\n")
    with pytest.raises(ingest.SourceEncodingError, match="not valid UTF-8.*0xf3"):
        ingest.check_header(CUSTOMERS, path)


def test_a_bom_file_loads_its_rows(tmp_path: Path) -> None:
    con, landed = _land(
        tmp_path, CUSTOMERS.file, b"\xef\xbb\xbf" + HEADER + b"\nc1,u1,01012,sp,SP\n"
    )
    assert (landed.loaded, landed.rejected) == (1, 0)
    assert con.sql("select customer_id from landing.customers").fetchall() == [("c1",)]


def test_an_empty_file_is_drift_that_says_so(tmp_path: Path) -> None:
    path = tmp_path / CUSTOMERS.file
    path.write_bytes(b"")
    with pytest.raises(SchemaDriftError, match="the file is empty"):
        ingest.check_header(CUSTOMERS, path)


def test_a_header_only_file_loads_zero_rows(tmp_path: Path) -> None:
    _, landed = _land(tmp_path, CUSTOMERS.file, HEADER + b"\n")
    assert (landed.loaded, landed.rejected) == (0, 0)


def test_drift_in_several_files_is_reported_in_one_message(tmp_path: Path) -> None:
    for source in SOURCES:
        _write(tmp_path / source.file, ",".join(source.columns) + "\n")
    _write(
        tmp_path / ORDERS.file,
        ",".join(ORDERS.columns).replace("order_status", "status") + ",channel\n",
    )
    _write(tmp_path / CUSTOMERS.file, ",".join(CUSTOMERS.columns[:-1]) + "\n")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    with pytest.raises(SchemaDriftError) as err:
        ingest.ingest_folder(con, tmp_path, "b1")
    assert [(Path(f).name, c) for f, c, _ in err.value.drifts] == [
        (ORDERS.file, "order_status"),
        (ORDERS.file, "channel"),
        (CUSTOMERS.file, "customer_state"),
    ]
    message = str(err.value)
    for file, column in (
        (ORDERS.file, "order_status"),
        (ORDERS.file, "channel"),
        (CUSTOMERS.file, "customer_state"),
    ):
        assert f"{file}: column {column!r}" in message
    assert con.sql("select count(*) from information_schema.tables").fetchall()[0][0] == 0
