"""Peer for benchmarks/micro/bench_load.cpp: load a FER2013 folder (root/<class>/*.png) with
PIL + numpy, the way Python FER projects do, and report the time as one JSON line.

    /usr/bin/python3 benchmarks/peers/pil_load.py --data /work/shared/fer2013/train [--threads 2] [--repeat 3]
    /usr/bin/python3 benchmarks/peers/pil_load.py --csv /work/shared/fer2013/fer2013-sample.csv

Folder: files are listed and sorted (class, then file name), each opened with PIL, converted
to 'L' and stacked into an (N, 48, 48) uint8 array with its label vector. --threads > 1 decodes
with a thread pool (PIL releases the GIL while decoding).
CSV: the usual Kaggle recipe, pandas.read_csv then numpy parsing of each pixels string into an
(N, 48, 48) uint8 array, split by Usage.
The best of --repeat runs is reported.
"""
import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import PIL
from PIL import Image

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


def list_files(root):
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    files, labels = [], []
    for label, name in enumerate(classes):
        folder = os.path.join(root, name)
        for f in sorted(os.listdir(folder)):
            if f.lower().endswith(EXTENSIONS):
                files.append(os.path.join(folder, f))
                labels.append(label)
    return files, np.asarray(labels, dtype=np.int64)


def read(path):
    with Image.open(path) as img:
        return np.asarray(img.convert("L"), dtype=np.uint8)


def load(root, threads):
    files, labels = list_files(root)
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            images = list(pool.map(read, files, chunksize=256))
    else:
        images = [read(f) for f in files]
    return np.stack(images), labels


def load_csv(path):
    frame = pd.read_csv(path)
    pixels = np.stack([np.array(p.split(), dtype=np.uint8) for p in frame["pixels"]]).reshape(-1, 48, 48)
    labels = frame["emotion"].to_numpy()
    parts = {usage: (pixels[(frame["Usage"] == usage).to_numpy()], labels[(frame["Usage"] == usage).to_numpy()])
             for usage in ("Training", "PublicTest", "PrivateTest")}
    return parts, len(frame)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder holding one subfolder per class")
    parser.add_argument("--csv", help="a FER2013 CSV (emotion,pixels,Usage)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if (args.data is None) == (args.csv is None):
        parser.error("give exactly one of --data and --csv")
    best = float("inf")
    if args.csv:
        for _ in range(args.repeat):
            start = time.perf_counter()
            _, rows = load_csv(args.csv)
            best = min(best, time.perf_counter() - start)
        print(json.dumps({"peer": "pandas+numpy", "pandas": pd.__version__, "numpy": np.__version__, "task": "load_csv",
                          "data": args.csv, "rows": rows, "seconds": best}))
        return
    for _ in range(args.repeat):
        start = time.perf_counter()
        x, y = load(args.data, args.threads)
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"peer": "PIL+numpy", "pil": PIL.__version__, "numpy": np.__version__, "task": "load_folder",
                      "data": args.data, "images": int(x.shape[0]), "threads": args.threads, "seconds": best}))


if __name__ == "__main__":
    main()
