"""Peer for benchmarks/feral_bench_models.cpp: the same classical-model pipelines with
scikit-learn, on the same data with the same number of threads, printed as the same JSON lines.

    /usr/bin/python3 benchmarks/peers/sklearn_models.py --train /work/shared/fer2013/train \
        --test /work/shared/fer2013/test [--limit N] [--threads T] [--only nb,pca_knn]

Data (as feral_bench_models): classes in FER2013's CSV order (angry, disgust, fear, happy, sad,
surprise, neutral; "disgusted"/"fearful"/"surprised" accepted), each class's files in file-name
order; --limit N keeps the first N images of each class of both folders. Pixels are float32.
Unless stated the pipeline's first step standardises with the global mean and standard
deviation of the training pixels (GlobalStandardizer below), timed with the fit.

Threads: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS are set before numpy loads,
threadpoolctl limits BLAS and OpenMP pools, and n_jobs = T where an estimator takes it.
With a small --limit a PCA keeps at most min(n_train, n_features) components (as feral does).

--protocol study2 (carve, then balance to --per-class) or study2-balance-first (balance, then
carve) fits on study 2's data instead (benchmarks/peers/study2_protocol.py; the standardiser
then uses the balanced set's global mean and std). Each line then also carries
"carved_accuracy" (the carved test set, where study 2's published figures were measured) beside
"accuracy" (the official test folder). Pipeline `pca_knn_grid` is study 2's k-NN: PCA(100),
then k chosen by 5-fold grid search over {1, 3, 5, 7, 12, 15, 20}; it runs only when asked for
or under a study 2 protocol.
"""
import argparse
import json
import os
import sys
import time

PIPELINES = ["nb", "logreg", "pca_logreg", "kmeans_logreg", "pca_knn", "pca_knn_grid", "rf_depth5", "rf_full", "pca_svm"]
CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SPELLINGS = {"disgusted": "disgust", "fearful": "fear", "surprised": "surprise"}
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--limit", type=int, default=0, help="first N images of each class (0 = all)")
    parser.add_argument("--threads", type=int, default=0, help="threads (0 = all cores)")
    parser.add_argument("--only", default="", help="comma-separated pipelines (default: all)")
    parser.add_argument("--protocol", default="plain", choices=["plain", "study2", "study2-balance-first"],
                        help="plain: fit on the training folder; study2*: study 2's carve and balancing (see above)")
    parser.add_argument("--per-class", type=int, default=3000, help="study2*: images per class after balancing")
    parser.add_argument("--seed", type=int, default=42, help="study2*: seed of the carve and the balancing")
    args = parser.parse_args()
    if args.limit < 0 or args.threads < 0:
        parser.error("--limit and --threads must be >= 0")
    if args.per_class < 1:
        parser.error(f"--per-class must be >= 1, got {args.per_class}")
    args.only = [name for name in args.only.split(",") if name]
    for name in args.only:
        if name not in PIPELINES:
            parser.error(f"unknown pipeline '{name}' in --only (known: {', '.join(PIPELINES)})")
    if args.threads == 0:
        args.threads = os.cpu_count() or 1
    return args


ARGS = parse_args()
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread variables)
from PIL import Image  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from study2_protocol import study2_indices  # noqa: E402


class GlobalStandardizer(TransformerMixin, BaseEstimator):
    """(x - mean) / std with one mean and one (population) std over all training pixels."""

    def fit(self, X, y=None):
        self.mean_ = float(np.mean(X, dtype=np.float64))
        self.std_ = float(np.std(X, dtype=np.float64)) or 1.0
        return self

    def transform(self, X):
        return ((X - np.float32(self.mean_)) * np.float32(1.0 / self.std_)).astype(np.float32, copy=False)


def load_folder(root, limit):
    folders = {}
    for name in os.listdir(root):
        if os.path.isdir(os.path.join(root, name)):
            folders[SPELLINGS.get(name.lower(), name.lower())] = name
    missing = [c for c in CLASSES if c not in folders]
    if missing:
        sys.exit(f"sklearn_models.py: {root} has no folder for {', '.join(missing)}")
    images, labels = [], []
    for label, cls in enumerate(CLASSES):
        folder = os.path.join(root, folders[cls])
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith(EXTENSIONS))
        if limit > 0:
            files = files[:limit]
        for f in files:
            with Image.open(os.path.join(folder, f)) as img:
                images.append(np.asarray(img.convert("L"), dtype=np.uint8).reshape(-1))
            labels.append(label)
    return np.vstack(images), np.asarray(labels)


def components(wanted, X):
    return min(wanted, X.shape[0], X.shape[1])


def build(name, X_train, threads):
    """The scikit-learn model for pipeline `name` (see feral_bench_models.cpp)."""
    if name == "nb":
        return make_pipeline(GlobalStandardizer(), GaussianNB())
    if name == "logreg":
        return make_pipeline(GlobalStandardizer(), LogisticRegression(penalty="l2", solver="saga", tol=0.1, random_state=0))
    if name == "pca_logreg":
        return make_pipeline(GlobalStandardizer(), PCA(n_components=components(300, X_train), random_state=0),
                             LogisticRegression(solver="lbfgs", max_iter=2000, tol=1e-3, random_state=0))
    if name == "kmeans_logreg":
        return make_pipeline(GlobalStandardizer(), KMeans(n_clusters=35, n_init=10, random_state=0),
                             LogisticRegression(penalty=None, solver="saga", tol=0.1, random_state=0))
    if name == "pca_knn":
        return make_pipeline(GlobalStandardizer(), PCA(n_components=components(100, X_train), random_state=0),
                             KNeighborsClassifier(n_neighbors=1, n_jobs=threads))
    if name == "pca_knn_grid":
        search = GridSearchCV(KNeighborsClassifier(n_jobs=threads), {"n_neighbors": [1, 3, 5, 7, 12, 15, 20]}, cv=5)
        return make_pipeline(GlobalStandardizer(), PCA(n_components=components(100, X_train), random_state=0), search)
    if name == "rf_depth5":
        return make_pipeline(GlobalStandardizer(),
                             RandomForestClassifier(n_estimators=100, max_depth=5, n_jobs=threads, random_state=0))
    if name == "rf_full":
        return RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=0)
    if name == "pca_svm":
        return make_pipeline(GlobalStandardizer(), PCA(n_components=components(50, X_train), random_state=0),
                             SVC(kernel="rbf", gamma="scale", C=1.0))
    raise ValueError(name)


def main():
    X_train_pixels, y_train = load_folder(ARGS.train, ARGS.limit)
    X_test_pixels, y_test = load_folder(ARGS.test, ARGS.limit)
    raw_train = X_train_pixels.astype(np.float32)
    raw_test = X_test_pixels.astype(np.float32)
    carved = None  # (X, y) of study 2's carved test set
    if ARGS.protocol != "plain":
        fit, _validation, test = study2_indices(y_train, ARGS.protocol, ARGS.per_class, ARGS.seed)
        carved = (raw_train[test], y_train[test])
        raw_train, y_train = raw_train[fit], y_train[fit]
    with threadpool_limits(limits=ARGS.threads):
        for name in PIPELINES:
            if ARGS.only and name not in ARGS.only:
                continue
            if carved is not None and name in ("pca_logreg", "rf_full"):
                continue  # not study 2's models
            if carved is None and not ARGS.only and name == "pca_knn_grid":
                continue  # study 2's model, not in feral_bench_models: only when asked for
            X_train, X_test, y_fit = raw_train, raw_test, y_train
            if name == "pca_logreg":  # a stratified 20% of the training set
                X_train, _, y_fit, _ = train_test_split(raw_train, y_train, train_size=0.2, stratify=y_train, random_state=0)
            elif name == "rf_full":  # pixels / 255, no standardiser
                X_train, X_test = raw_train / np.float32(255), raw_test / np.float32(255)
            model = build(name, X_train, ARGS.threads)
            start = time.perf_counter()
            model.fit(X_train, y_fit)
            fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            predicted = model.predict(X_test)
            predict_seconds = time.perf_counter() - start
            record = {
                "library": "scikit-learn",
                "pipeline": name,
                "threads": ARGS.threads,
                "n_train": int(X_train.shape[0]),
                "n_test": int(X_test.shape[0]),
                "fit_seconds": fit_seconds,
                "predict_seconds": predict_seconds,
                "accuracy": float(accuracy_score(y_test, predicted)),
                "macro_f1": float(f1_score(y_test, predicted, average="macro")),
            }
            if carved is not None:
                record.update(protocol=ARGS.protocol, seed=ARGS.seed,
                              carved_accuracy=float(accuracy_score(carved[1], model.predict(carved[0]))))
                if name == "pca_knn_grid":
                    record["best_k"] = int(model[-1].best_params_["n_neighbors"])
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
