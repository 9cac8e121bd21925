"""Compile a virtual environment's bytecode, reusing what another environment compiled.

    .venv-emulator/bin/python scripts/compile_bytecode.py .venv-emulator --reuse .venv

uv installs a package that several environments hold as hard links to one file in its cache,
so .venv and .venv-emulator share the very same source files of sympy, botocore, cfn-lint and
others (same inode). A .pyc depends only on its source's bytes, its mtime and size (its
header) and the interpreter (its name's cache tag), so the bytecode another environment of
the same Python compiled from that file is hard-linked here, not compiled again; the
interpreter sets a code object's file name from the path it imports it by, not from the
.pyc (importlib's _fix_co_filename). Everything else is compiled as `python -m compileall`
compiles it. Run it with the environment's own interpreter.
"""

import argparse
import compileall
import os
import re
import struct
import sys
from collections.abc import Iterator
from importlib.util import MAGIC_NUMBER, cache_from_source
from pathlib import Path


def site_packages(environment: Path) -> Path:
    """The environment's site-packages folder, for this interpreter's version."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return environment / "lib" / version / "site-packages"


def current_bytecode(source: Path, stat: os.stat_result) -> Path | None:
    """The .pyc compiled from source as it is now (by this interpreter), or None."""
    compiled = Path(cache_from_source(source))
    try:
        with compiled.open("rb") as file:
            header = file.read(16)
    except OSError:
        return None
    # PEP 552: magic, flags (0: checked by mtime), source mtime and size, little-endian.
    expected = MAGIC_NUMBER + struct.pack("<III", 0, int(stat.st_mtime) & 0xFFFFFFFF,
                                          stat.st_size & 0xFFFFFFFF)  # fmt: skip
    return compiled if header == expected else None


def sources(root: Path, skip: re.Pattern[str] | None) -> Iterator[tuple[Path, os.stat_result]]:
    """Every .py file under root that `skip` does not match, with its stat."""
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name != "__pycache__"]
        for name in files:
            path = Path(folder, name)
            if name.endswith(".py") and not (skip and skip.search(str(path))):
                yield path, path.stat()


def reuse(environment: Path, others: list[Path], skip: re.Pattern[str] | None) -> int:
    """Hard-link into environment the bytecode others compiled from its own source files;
    return how many were linked."""
    compiled_by_file: dict[tuple[int, int], Path] = {}
    for other in others:
        for source, stat in sources(site_packages(other), skip):
            file = (stat.st_dev, stat.st_ino)
            if file not in compiled_by_file and (found := current_bytecode(source, stat)):
                compiled_by_file[file] = found
    linked = 0
    for source, stat in sources(site_packages(environment), skip):
        found = compiled_by_file.get((stat.st_dev, stat.st_ino))
        if found is None or current_bytecode(source, stat) is not None:
            continue
        target = Path(cache_from_source(source))
        target.parent.mkdir(exist_ok=True)
        staged = target.with_name(f"{target.name}.{os.getpid()}")
        try:
            os.link(found, staged)
            os.replace(staged, target)  # as importlib writes a .pyc: never half there
        except OSError:
            continue  # another file system, say: compiled below instead
        linked += 1
    return linked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environment", type=Path, help="the virtual environment to compile")
    parser.add_argument(
        "--reuse",
        type=Path,
        action="append",
        default=[],
        metavar="ENV",
        help="an environment of the same Python whose bytecode may be linked",
    )
    parser.add_argument("--skip", type=re.compile, metavar="REGEX",
                        help="leave the files whose path this matches uncompiled")  # fmt: skip
    args = parser.parse_args(argv)
    reuse(args.environment, args.reuse, args.skip)
    compiled = compileall.compile_dir(args.environment / "lib", quiet=1, workers=0, rx=args.skip)
    return 0 if compiled else 1


if __name__ == "__main__":
    sys.exit(main())
