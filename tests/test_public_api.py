"""The public surface of `hub` is what `__all__` says, and every name in it exists."""

from __future__ import annotations

import hub


def test_all_names_exist_and_are_documented() -> None:
    for name in hub.__all__:
        obj = getattr(hub, name)
        assert obj.__doc__, f"hub.{name} has no docstring"


def test_public_surface_is_deliberate() -> None:
    import types

    public = {n for n in dir(hub) if not n.startswith("_")}
    # Submodules appear as attributes once imported (by this or other tests): not the surface.
    submodules = {n for n in public if isinstance(getattr(hub, n), types.ModuleType)}
    assert public - submodules - {"import_module", "Any"} == set(hub.__all__)


def test_harvesters_and_hub_import_in_either_order() -> None:
    import subprocess
    import sys

    for first, second in (("harvesters", "hub"), ("hub", "harvesters")):
        code = f"import {first}; import {second}; {second}.__all__"
        subprocess.run([sys.executable, "-c", code], check=True)
