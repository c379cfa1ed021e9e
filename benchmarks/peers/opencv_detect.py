"""Peer of feral_bench_detect: cv2.CascadeClassifier.detectMultiScale per photo.

    /usr/bin/python3 benchmarks/peers/opencv_detect.py [--cascade FILE] [--threads T] [--repeat R]
        [--scale 1.1] [--neighbors 3] [--min-size 0] PHOTO...
"""
import argparse
import json
import time

import cv2


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cascade", default="/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--scale", type=float, default=1.1)
    p.add_argument("--neighbors", type=int, default=3)
    p.add_argument("--min-size", type=int, default=0)
    p.add_argument("photos", nargs="+")
    a = p.parse_args()
    cv2.setNumThreads(a.threads)
    cascade = cv2.CascadeClassifier(a.cascade)
    for photo in a.photos:
        gray = cv2.imread(photo, cv2.IMREAD_GRAYSCALE)
        best = float("inf")
        for _ in range(max(a.repeat, 1)):
            start = time.perf_counter()
            faces = cascade.detectMultiScale(gray, a.scale, a.neighbors, minSize=(a.min_size, a.min_size))
            best = min(best, time.perf_counter() - start)
        print(json.dumps({"pipeline": "detect", "implementation": "opencv", "image": photo, "width": gray.shape[1],
                          "height": gray.shape[0], "faces": len(faces), "threads": a.threads, "seconds": best}))


if __name__ == "__main__":
    main()
