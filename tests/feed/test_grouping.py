"""A version's grouping by entity is read once per publish and never outlives its file."""

from __future__ import annotations

import os
import random
from pathlib import Path

from hub.feed._derive import digest_of, forget_grouping, group_version, owner_groups

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


def test_one_pass_hands_over_each_group_whole_whatever_the_nesting(tmp_path: Path) -> None:
    """Keys that extend one another (`a`, `a0`, `a-b`, `a.c`, `ab`) put groups inside each
    other's range of the sorted file; skolem nodes sit elsewhere. `owner_groups` must give
    each owner once, with exactly the lines `Grouping.owner` assigns it."""
    genid = "https://hub.example.org/.well-known/genid/s/"
    rng = random.Random(7)
    for trial in range(40):
        keys = rng.sample(["a", "a0", "a-b", "a.c", "ab", "a0/x", "b", "a;", "a=z", "é"], 6)
        lines = set()
        for key in keys:
            for tail in rng.sample(["", "/address", "#geo", "?v=1", "/address/x"], 3):
                lines.add(f'<{PREFIX}{key}{tail}> <http://schema.org/name> "{key}{tail}" .')
            if rng.random() < 0.4:  # a blank node of this entity, and one nested in it
                node = f"{genid}{trial}-{key}"
                lines.add(f"<{PREFIX}{key}> <http://schema.org/offers> <{node}> .")
                lines.add(f'<{node}> <http://schema.org/price> "5" .')
                lines.add(f"<{node}> <http://schema.org/seller> <{node}-n> .")
                lines.add(f'<{node}-n> <http://schema.org/name> "n" .')
        lines.add(f'<{genid}orphan> <http://schema.org/name> "alone" .')
        lines.add('<https://elsewhere.org/x> <http://schema.org/name> "X" .')
        version = tmp_path / f"v{trial}.nt"
        version.write_text("".join(line + "\n" for line in sorted(lines)), encoding="utf-8")
        grouping = group_version(version, PREFIX)
        expected: dict[str, list[str]] = {}
        for line in sorted(lines):
            subject = line[1 : line.index(">")]
            expected.setdefault(grouping.owner(subject), []).append(line)
        groups = list(owner_groups(version, grouping))
        assert len(groups) == len({owner for owner, _ in groups}), "an owner came twice"
        got = {owner: sorted(line.decode() for line in group) for owner, group in groups}
        assert got == expected, trial
        assert {o: digest_of(g) for o, g in groups} == {o: grouping.hexdigest(o) for o in got}
        forget_grouping()
