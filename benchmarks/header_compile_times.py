#!/usr/bin/python3
"""Times compiling each public feral header alone: what a user pays for one #include.

For every include/feral/**/*.hpp (detail/ excluded unless --all) this compiles a
translation unit holding only `#include <feral/that/header.hpp>` with the project's
flags, `--repeat` times, and prints one JSON line per header with the median seconds,
then a table sorted by time. A header that does not compile alone (a missing include)
is reported as such and makes the exit code 1, so the script doubles as a check that
every header is self-contained.

  benchmarks/header_compile_times.py [--compiler g++] [--repeat 3] [--syntax-only]
                                     [--only SUBSTRING] [--json FILE]

--syntax-only (-fsyntax-only) measures parsing and template definition checking only;
without it each unit is compiled to an object file at -O2 -march=native, which includes
the code generation of everything instantiated at namespace scope (little, in a header).
Run it on a quiet machine: the figures are wall-clock times of one compiler process.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = ROOT / "include"


def pkg_cflags(name):
    try:
        return subprocess.run(["pkg-config", "--cflags", name], check=True, capture_output=True,
                              text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compiler", default=os.environ.get("CXX", "g++"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--syntax-only", action="store_true")
    parser.add_argument("--all", action="store_true", help="include detail/ headers")
    parser.add_argument("--only", default="", help="only headers whose path contains this")
    parser.add_argument("--json", default="", help="also write the results to this file")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")

    headers = sorted(p.relative_to(INCLUDE).as_posix() for p in INCLUDE.rglob("*.hpp"))
    headers = [h for h in headers if (args.all or "/detail/" not in h) and args.only in h]
    if not headers:
        sys.exit(f"no header under {INCLUDE} matches --only '{args.only}'")

    flags = ["-std=c++20", "-I", str(INCLUDE), "-I/usr/include/eigen3", *pkg_cflags("stb"), "-fopenmp",
             "-Wall", "-Wextra", "-Wpedantic"]
    flags += ["-fsyntax-only"] if args.syntax_only else ["-O2", "-march=native", "-c", "-o", os.devnull]

    results, failures = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for header in headers:
            source = Path(tmp) / "one_header.cpp"
            source.write_text(f"#include <{header}>\n")
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                run = subprocess.run([args.compiler, *flags, str(source)], capture_output=True, text=True)
                times.append(time.perf_counter() - start)
                if run.returncode != 0:
                    failures.append((header, run.stderr.strip().splitlines()[:5]))
                    break
            else:
                row = {"header": header, "seconds": round(statistics.median(times), 3),
                       "mode": "syntax-only" if args.syntax_only else "-O2 object", "repeat": args.repeat}
                results.append(row)
                print(json.dumps(row), flush=True)

    print(f"\n{'header':<44} {'median s':>9}")
    for row in sorted(results, key=lambda r: -r["seconds"]):
        print(f"{row['header']:<44} {row['seconds']:>9.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    for header, lines in failures:
        print(f"\n{header} does not compile alone:", *lines, sep="\n  ", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
