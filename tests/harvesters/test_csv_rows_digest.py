"""A CSV file's rows digest: equal for the same rows in other bytes, different otherwise.

The files harvester trusts it to skip a rewritten export whose rows are the published
run's (tests/pipeline/test_unchanged.py), so a change it missed would never be published.
"""

from __future__ import annotations

from harvesters._readers import ReadOptions, csv_rows_digest


def digest(text: str | bytes, read: ReadOptions | None = None) -> str | None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    chunks = iter([data[i : i + 7] for i in range(0, len(data), 7)])  # rows across chunks
    return csv_rows_digest("t", "t.csv", chunks, read or ReadOptions())


ROWS = "id,name,town\n1,Forte,Bastia\n2,,Lucca\n"


def test_the_same_rows_in_other_bytes_have_one_digest() -> None:
    same = [
        ROWS,
        ROWS.replace("\n", "\r\n"),  # line ends
        '"id","name","town"\n"1","Forte","Bastia"\n"2","","Lucca"\n',  # quoting
        ROWS + "\n\n",  # blank lines
        "\ufeff" + ROWS,  # a byte order mark
        ROWS.rstrip("\n"),  # no newline at the end
    ]
    assert len({digest(text) for text in same}) == 1


def test_other_rows_have_another_digest() -> None:
    others = [
        ROWS,
        ROWS.replace("Bastia", "Bastìa"),  # one character
        ROWS.replace("id,name,town", "id,nom,town"),  # the header
        "id,name,town\n2,,Lucca\n1,Forte,Bastia\n",  # the order of rows
        ROWS + "3,Torre,Pisa\n",  # one row more
        ROWS.replace("2,,Lucca", "2,Lucca,"),  # a value in another column
        'id,name,town\n1,"Forte,Bastia"\n2,,Lucca\n',  # two fields or one
    ]
    assert len({digest(text) for text in others}) == len(others)


def test_separator_characters_inside_fields_cannot_fake_other_rows() -> None:
    one_field = 'a\n"x\x1fy"\n'
    two_fields = "a\nx,y\n"
    row_end = 'a\n"x\x1ey"\n'
    two_rows = "a\nx\ny\n"
    marker = "a\n\"\x1d['x']\"\n"
    assert len({digest(t) for t in (one_field, two_fields, row_end, two_rows, marker)}) == 5


def test_the_reader_options_count() -> None:
    semicolons = "id;name\n1;Forte\n"
    assert digest(semicolons, ReadOptions(delimiter=";")) != digest(semicolons)
    latin = "id,name\n1,Città\n".encode("latin-1")
    assert digest(latin, ReadOptions(encoding="latin-1")) == digest("id,name\n1,Città\n")


def test_bytes_that_do_not_read_give_no_digest() -> None:
    assert digest(b"id,name\n1,Citt\xe0\n") is None  # not UTF-8: the reader says why
