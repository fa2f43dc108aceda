"""A version's grouping by entity is read once per publish and never outlives its file."""

from __future__ import annotations

import os
from pathlib import Path

from hub.feed._derive import forget_grouping, group_version

PREFIX = "https://hub.example.org/id/s/"


def write(path: Path, names: list[str]) -> None:
    lines = [f'<{PREFIX}{n}> <http://schema.org/name> "{n}" .' for n in names]
    temp = path.with_suffix(".tmp")
    temp.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    os.replace(temp, path)  # as versions are written: aside, then renamed


def test_the_same_version_is_grouped_once_and_a_new_file_again(tmp_path: Path) -> None:
    version = tmp_path / "v.nt"
    write(version, ["a", "b"])
    first = group_version(version, PREFIX)
    assert group_version(version, PREFIX) is first  # the feed after the read model
    assert group_version(version, PREFIX + "x/") is not first  # another prefix
    write(version, ["a", "b", "c"])  # another content under the same name
    again = group_version(version, PREFIX)
    assert again is not first and set(again.digests) == {PREFIX + n for n in "abc"}
    forget_grouping()
    assert group_version(version, PREFIX) is not again
    forget_grouping()
