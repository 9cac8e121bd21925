"""scripts/compile_bytecode.py: bytecode one environment compiled is reused by another.

Two environments here are folders laid out as a virtual environment's lib; a shared package
is a hard link, as uv installs one from its cache.
"""

import compileall
import os
import struct
import subprocess
import sys
from importlib.util import MAGIC_NUMBER, cache_from_source
from pathlib import Path

from scripts.compile_bytecode import main, site_packages


def environment(root: Path, name: str) -> Path:
    site_packages(root / name).mkdir(parents=True)
    return root / name


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def compiled(source: Path) -> Path:
    return Path(cache_from_source(source))


def test_shared_files_get_the_other_environments_bytecode_and_the_rest_is_compiled(tmp_path):
    first, second = environment(tmp_path, "first"), environment(tmp_path, "second")
    shared = write(site_packages(first) / "shared" / "__init__.py", "WHERE = __file__\n")
    linked = site_packages(second) / "shared" / "__init__.py"
    linked.parent.mkdir()
    os.link(shared, linked)
    own = write(site_packages(second) / "own.py", "X = 1\n")
    assert compileall.compile_dir(first / "lib", quiet=1)

    assert main([str(second), "--reuse", str(first)]) == 0

    assert compiled(linked).stat().st_ino == compiled(shared).stat().st_ino  # one file
    assert compiled(own).is_file()
    # Imported from the second environment, the module names its own path, not the first's:
    # the interpreter rewrites a code object's file name to the path it was loaded from.
    probe = "import shared; print(shared.WHERE, shared.__cached__)"
    run = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(site_packages(second))},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert run.stdout.split() == [str(linked), str(compiled(linked))]


def test_bytecode_of_an_older_version_of_the_file_is_compiled_again(tmp_path):
    first, second = environment(tmp_path, "first"), environment(tmp_path, "second")
    shared = write(site_packages(first) / "shared.py", "X = 1\n")
    assert compileall.compile_dir(first / "lib", quiet=1)
    stale = compiled(shared).stat().st_ino
    os.link(shared, site_packages(second) / "shared.py")
    shared.write_text("X = 22\n")  # the file both hold changes after the first compiled it
    later = shared.stat().st_mtime + 10  # a .pyc records its source's mtime in whole seconds
    os.utime(shared, (later, later))

    assert main([str(second), "--reuse", str(first)]) == 0

    fresh = compiled(site_packages(second) / "shared.py")
    assert fresh.stat().st_ino != stale
    assert fresh.read_bytes()[:16] == pep_552_header(shared)


def pep_552_header(source: Path) -> bytes:
    """The header of a .pyc compiled from source as it is now (PEP 552: magic number, flags 0
    for a timestamp-checked .pyc, the source's mtime and size, little-endian)."""
    stat = source.stat()
    return MAGIC_NUMBER + struct.pack("<III", 0, int(stat.st_mtime), stat.st_size)


def test_what_skip_matches_is_left_uncompiled(tmp_path):
    only = environment(tmp_path, "only")
    kept = write(site_packages(only) / "pkg" / "__init__.py", "")
    skipped = write(site_packages(only) / "pkg" / "tests" / "test_pkg.py", "")

    assert main([str(only), "--skip", "/tests/"]) == 0

    assert compiled(kept).is_file()
    assert not compiled(skipped).exists()
