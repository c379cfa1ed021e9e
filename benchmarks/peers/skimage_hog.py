"""Peer of feral_bench_hog: skimage.feature.hog (0.19), 9 orientations, 8x8 cells, 2x2 blocks, L2-Hys.

    /usr/bin/python3 benchmarks/peers/skimage_hog.py --train DIR [--limit N] [--threads T] [--repeat R]

skimage's hog is single-threaded; with --threads > 1 images are split over a process pool.
"""
import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np
from skimage.feature import hog

sys.path.insert(0, __import__("os").path.dirname(__file__))
from vision_common import list_faces  # noqa: E402


def features(images):
    return np.array([hog(im, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys")
                     for im in images])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True)
    p.add_argument("--limit", type=int, default=5000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    images = [cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in list_faces(a.train, a.limit)]
    best = float("inf")
    for _ in range(max(a.repeat, 1)):
        start = time.perf_counter()
        if a.threads > 1:
            chunks = np.array_split(np.arange(len(images)), a.threads)
            with ProcessPoolExecutor(a.threads) as pool:
                out = np.vstack(list(pool.map(features, [[images[i] for i in c] for c in chunks])))
        else:
            out = features(images)
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"pipeline": "hog", "implementation": "skimage", "n_images": len(images),
                      "n_features": int(out.shape[1]), "threads": a.threads, "seconds": best,
                      "us_per_image": best * 1e6 / len(images)}))


if __name__ == "__main__":
    main()
