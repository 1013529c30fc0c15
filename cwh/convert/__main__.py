"""python -m cwh.convert FILE|DIR... [--write [DIR]]

Converts official DISA XCCDF benchmarks for Windows Server 2016, 2019 and 2022 and prints the
conversion report per release; `--write` also writes the release files (by default into
cwh/catalog/stig/, which is how the committed data is regenerated). Bad input: one line naming
the file, exit 4.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cwh.convert.release import DATA_DIR, convert_file, write
from cwh.convert.report import render

EXIT_BAD_INPUT = 4


def _files(arguments: list[str]) -> list[Path]:
    files: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = sorted(p for p in path.glob("*xccdf.xml") if "Windows_Server" in p.name)
            if not found:
                raise ValueError(f"{path}: no Windows Server XCCDF file (*xccdf.xml) in it")
            files.extend(found)
        else:
            files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cwh.convert", description=__doc__.split(
        "\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="FILE|DIR")
    parser.add_argument("--write", nargs="?", const=str(DATA_DIR), metavar="DIR",
                        help=f"write the release files (default {DATA_DIR})")
    args = parser.parse_args(argv)
    try:
        releases = [(path, convert_file(path)) for path in _files(args.paths)]
    except (OSError, ValueError) as exc:
        print(f"cwh.convert: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for path, release in releases:
        print(render(release, str(path)))
        if args.write:
            print(f"written: {write(release, Path(args.write))}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
