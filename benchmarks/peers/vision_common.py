"""Shared helpers of the vision peer benchmarks (run with Debian's /usr/bin/python3)."""
import os


def list_faces(train, limit):
    """DIR/<class>/*.png, classes and files sorted, first `limit` (same order as feral_bench_hog)."""
    files = []
    for cls in sorted(d for d in os.listdir(train) if os.path.isdir(os.path.join(train, d))):
        folder = os.path.join(train, cls)
        files += [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(".png")]
    return files[:limit] if limit > 0 else files
