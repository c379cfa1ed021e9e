#!/usr/bin/env python3
"""Side-by-side table of a feral benchmark and its peer, from their JSON-lines outputs.

    benchmarks/compare.py feral.jsonl sklearn.jsonl [--markdown]

(Named compare.py, not compare: benchmarks/ is on the benchmark programs' include path, and
a file named "compare" there would shadow the C++20 standard header <compare>.)

Each input holds one JSON object per line with at least "pipeline", "fit_seconds",
"predict_seconds" and "accuracy" (lines that are not JSON objects are ignored, so captured
logs work). A pipeline that appears several times (repeated runs appended to one file)
counts by its median run: the run with the median fit + predict time (the lower middle one
for an even count), and the table says how many runs there were. Rows are matched by
"pipeline"; for each one the table shows both accuracies
(and macro F1 where present), their difference in points, both fit + predict times and the
speed-up (peer time / feral time, > 1 means feral is faster).

The last column checks the targets of the classical-model benchmark: accuracy at most 0.5
points below the peer, and a speed-up of at least 3 (5 for pca_svm); the target table can be
changed with --min-speedup and --speedup NAME=X. Rows whose n_train, n_test or threads
differ between the files are flagged: their ratios are not comparable.

Exit status: 0, or 1 if an input cannot be read or has no matching pipelines.
Standard library only.
"""
import argparse
import json
import sys


def read_lines(path):
    runs = {}
    try:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    print(f"compare: {path}:{number}: not valid JSON ({e}); line ignored", file=sys.stderr)
                    continue
                if "pipeline" in row:
                    runs.setdefault(row["pipeline"], []).append(row)
    except OSError as e:
        sys.exit(f"compare: cannot read {path}: {e.strerror}")
    rows = {}
    for name, repeats in runs.items():  # insertion order: the file's pipeline order
        ordered = sorted(repeats, key=total_seconds)
        median = dict(ordered[(len(ordered) - 1) // 2])
        median["runs"] = len(ordered)
        rows[name] = median
    return rows


def total_seconds(row):
    return float(row.get("fit_seconds", 0.0)) + float(row.get("predict_seconds", 0.0))


def main():
    parser = argparse.ArgumentParser(description="Side-by-side table of feral and peer JSON lines.")
    parser.add_argument("feral")
    parser.add_argument("peer")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--min-speedup", type=float, default=3.0, help="speed-up target (default 3)")
    parser.add_argument("--speedup", action="append", default=["pca_svm=5"], metavar="NAME=X",
                        help="per-pipeline speed-up target (default pca_svm=5)")
    parser.add_argument("--accuracy-slack", type=float, default=0.5,
                        help="points of accuracy feral may lose to the peer (default 0.5)")
    args = parser.parse_args()
    targets = {}
    for item in args.speedup:
        name, _, value = item.partition("=")
        try:
            targets[name] = float(value)
        except ValueError:
            sys.exit(f"compare: --speedup expects NAME=X, got '{item}'")

    ours, theirs = read_lines(args.feral), read_lines(args.peer)
    names = [n for n in ours if n in theirs]
    if not names:
        sys.exit(f"compare: no pipeline appears in both {args.feral} and {args.peer}")
    peer_name = next(iter(theirs.values())).get("library", "peer")

    header = ["pipeline", "runs", "n_train", "feral acc", f"{peer_name} acc", "diff (pts)", "feral F1", f"{peer_name} F1",
              "feral s", f"{peer_name} s", "speed-up", "target"]
    table = []
    for name in names:
        a, b = ours[name], theirs[name]
        diff = 100.0 * (float(a["accuracy"]) - float(b["accuracy"]))
        t_a, t_b = total_seconds(a), total_seconds(b)
        speedup = t_b / t_a if t_a > 0 else float("inf")
        wanted = targets.get(name, args.min_speedup)
        notes = []
        for key in ("n_train", "n_test", "threads"):
            if key in a and key in b and a[key] != b[key]:
                notes.append(f"{key} differs ({a[key]} vs {b[key]})")
        verdict = "ok" if diff >= -args.accuracy_slack and speedup >= wanted else (
            "slower" if diff >= -args.accuracy_slack else "less accurate" if speedup >= wanted else "both missed")
        if notes:
            verdict = "not comparable: " + "; ".join(notes)
        f1 = lambda r: f"{100.0 * float(r['macro_f1']):.1f}%" if "macro_f1" in r else "-"  # noqa: E731
        table.append([name, f"{a['runs']} / {b['runs']}", str(a.get("n_train", "?")), f"{100.0 * float(a['accuracy']):.1f}%",
                      f"{100.0 * float(b['accuracy']):.1f}%", f"{diff:+.1f}", f1(a), f1(b), f"{t_a:.2f}", f"{t_b:.2f}",
                      f"{speedup:.1f}x", f"{verdict} (>= {wanted:g}x)" if verdict in ("ok", "slower") else verdict])
    for name in ours:
        if name not in theirs:
            print(f"compare: {name} is only in {args.feral}", file=sys.stderr)
    for name in theirs:
        if name not in ours:
            print(f"compare: {name} is only in {args.peer}", file=sys.stderr)

    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(" --- " for _ in header) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        print("  ".join("-" * w for w in widths))
        for row in table:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
