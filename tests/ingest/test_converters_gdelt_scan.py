"""A published GDELT export is scanned by its event code before a row is decoded (the rows
out of the diplomatic space cost almost nothing); what it reads is what the csv reader read."""

import io
import zipfile

from app.ingest import converters
from tests.ingest.test_converters import EVENTDATA, convert, imported


def test_a_gdelt_export_reads_the_same_zipped_with_crlf_and_a_byte_order_mark(client):
    plain = imported(client, "gdelt", "gdelt.export.CSV")["conversion"]
    text = (EVENTDATA / "gdelt.export.CSV").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("20180317120000.export.CSV", b"\xef\xbb\xbf" + text + b"\t" * 60 + b"\r\n")
    answer = convert(client, "gdelt", "export.zip", body=packed.getvalue(), dry_run="true")
    assert answer.status_code == 200, answer.text
    zipped = answer.json()["conversion"]
    assert {k: v for k, v in zipped.items() if k != "actors_created"} == {
        k: v for k, v in plain.items() if k != "actors_created"
    }


def test_lines_read_across_the_blocks_of_the_scan_read_as_a_whole(client, monkeypatch):
    """The scan reads a file a block at a time: rows that lie across blocks, a row holding a
    NUL and a last row without its line end read as they do within one block."""
    rows = (EVENTDATA / "gdelt.export.CSV").read_bytes().splitlines(keepends=True)
    broken = rows[1].replace(b"\t", b"\t\x00", 1)
    body = b"".join([*rows, broken, rows[2].rstrip(b"\r\n")])
    whole = convert(client, "gdelt", "export.CSV", body=body, dry_run="true").json()["conversion"]
    monkeypatch.setattr(converters, "SCAN_BYTES", 7)
    in_blocks = convert(client, "gdelt", "export.CSV", body=body, dry_run="true").json()["conversion"]
    assert in_blocks == whole
    plain = imported(client, "gdelt", "gdelt.export.CSV")["conversion"]
    assert whole["skipped"]["bad_row"]["-"] == plain["skipped"]["bad_row"]["-"] + 1
    assert whole["rows"] == plain["rows"] + 2


def test_the_scan_splits_lines_without_their_ends_however_the_file_ends(monkeypatch):
    """A file of one line (its first line, read alone), one whose last line has no line end,
    and one read in blocks shorter than a line all give their lines without line ends."""
    cases = [(b"", 1 << 20, [b"a\tb"]), (b"c\n\x00d", 1 << 20, [b"a\tb", b"c", b"\x00d"])]
    for rest, size, expected in [*cases, (b"c\n\x00d", 2, [b"a\tb", b"c", b"\x00d"])]:
        monkeypatch.setattr(converters, "SCAN_BYTES", size)
        blocks = list(converters._line_blocks(b"a\tb\n", io.BytesIO(rest)))
        assert [line for block, _ in blocks for line in block if line] == expected
        assert any(nul for _, nul in blocks) == (b"\x00" in rest)
