#!/usr/bin/env python3
"""Side-by-side table of feral_bench_cnn and its PyTorch peer (benchmarks/peers/torch_cnn.py).

    benchmarks/compare_cnn.py feral.jsonl torch.jsonl [--markdown]

Each input holds the JSON lines the programs print (other lines are ignored, so captured logs
work). Rows are matched by "arch" using the summary lines; the table shows both training
throughputs (images/s), the speed-up (feral / peer, > 1 means feral is faster), both final
test accuracies and their difference in points, and checks the targets: a speed-up of at
least 2 for small, mid, deep and wide, and test accuracy at most 1 point below the peer.
Rows whose epochs, n_train, n_test or threads differ are flagged as not comparable.
Standard library only.
"""
import argparse
import json
import sys

SPEEDUP_TARGET = {"small": 2.0, "mid": 2.0, "deep": 2.0, "wide": 2.0}


def summaries(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if row.get("summary"):
                rows[row["arch"]] = row
    return rows


def main():
    parser = argparse.ArgumentParser(description="feral vs PyTorch CNN training table")
    parser.add_argument("feral")
    parser.add_argument("peer")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    try:
        ours, theirs = summaries(args.feral), summaries(args.peer)
    except OSError as e:
        print(f"compare_cnn: {e}", file=sys.stderr)
        return 1
    archs = [a for a in ours if a in theirs]
    if not archs:
        print("compare_cnn: no architecture appears in both files", file=sys.stderr)
        return 1
    header = ["arch", "feral img/s", "peer img/s", "speed-up", "feral acc", "peer acc", "diff (pts)", "target"]
    rows = []
    for a in archs:
        f, p = ours[a], theirs[a]
        speedup = f["images_per_second"] / p["images_per_second"]
        diff = 100.0 * (f["test_accuracy"] - p["test_accuracy"])
        same = all(f.get(k) == p.get(k) for k in ("epochs", "n_train", "n_test", "threads"))
        if not same:
            verdict = "not comparable"
        else:
            ok = diff >= -1.0 and speedup >= SPEEDUP_TARGET.get(a, 0.0)
            verdict = "met" if ok else "missed"
        rows.append([a, f"{f['images_per_second']:.1f}", f"{p['images_per_second']:.1f}", f"{speedup:.2f}x",
                     f"{100 * f['test_accuracy']:.1f}%", f"{100 * p['test_accuracy']:.1f}%", f"{diff:+.1f}", verdict])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        for r in [header] + rows:
            print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
