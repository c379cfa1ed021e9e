"""Peer of feral_bench_hog: cv2.HOGDescriptor((48,48),(16,16),(8,8),(8,8),9) on each face.

    /usr/bin/python3 benchmarks/peers/opencv_hog.py --train DIR [--limit N] [--threads T] [--repeat R]

Note OpenCV's HOG differs in definition (Gaussian block window, trilinear vote
interpolation); it is the speed reference, not the equality reference (skimage is).
"""
import argparse
import json
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))
from vision_common import list_faces  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True)
    p.add_argument("--limit", type=int, default=5000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    cv2.setNumThreads(a.threads)
    images = [cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in list_faces(a.train, a.limit)]
    descriptor = cv2.HOGDescriptor((48, 48), (16, 16), (8, 8), (8, 8), 9)
    best = float("inf")
    for _ in range(max(a.repeat, 1)):
        start = time.perf_counter()
        out = np.vstack([descriptor.compute(im).reshape(1, -1) for im in images])
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"pipeline": "hog", "implementation": "opencv", "n_images": len(images),
                      "n_features": int(out.shape[1]), "threads": a.threads, "seconds": best,
                      "us_per_image": best * 1e6 / len(images)}))


if __name__ == "__main__":
    main()
