// feral_bench_models — the classical-model pipelines on FER2013 folders, one JSON line each.
//
//   feral_bench_models --train /work/shared/fer2013/train --test /work/shared/fer2013/test
//                      [--limit N] [--threads T] [--only nb,pca_knn]
//
// Peer: benchmarks/peers/sklearn_models.py (same pipelines, same data, same threads);
// side by side: benchmarks/compare.py feral.jsonl sklearn.jsonl.
//
// Data: both folders are loaded in FER2013's CSV class order (angry .. neutral), each class's
// files in file-name order. --limit N keeps the first N images of each class of both sets
// (feral::first_n_per_class; all of a class that has fewer). Unless stated, pixels enter the
// pipeline as raw values 0..255 and its first step standardises them with the global mean and
// standard deviation of the training pixels (feral::GlobalStandardizer), timed with the fit.
//
// Pipelines (scikit-learn 1.2 defaults unless stated; random_state 0 everywhere):
//   nb             GaussianNB
//   logreg         LogisticRegression(L2, saga, tol 0.1)
//   pca_logreg     PCA(300) + LogisticRegression(lbfgs, max_iter 2000, tol 1e-3), fitted on a
//                  stratified 20% of the training set (feral::stratified_split, seed 0)
//   kmeans_logreg  KMeans(35) distances + LogisticRegression(no penalty, saga, tol 0.1)
//   pca_knn        PCA(100) + KNeighborsClassifier(k = 1)
//   rf_depth5      RandomForest(100 trees, max_depth 5)
//   rf_full        RandomForest(100 trees, unlimited depth) on pixels / 255 (no standardiser)
//   pca_svm        PCA(50) + SVC(RBF, gamma 'scale', C 1)
//
// Output, one line per pipeline:
//   {"library": "feral", "pipeline": "nb", "threads": 2, "n_train": ..., "n_test": ...,
//    "fit_seconds": ..., "predict_seconds": ..., "accuracy": ..., "macro_f1": ...}
// accuracy and macro_f1 are fractions in [0, 1] on the test folder. With a small --limit a
// PCA keeps at most min(n_train, n_features) components (both programs do this).
//
#include <feral/core/threads.hpp>
#include <feral/data/folder_loader.hpp>
#include <feral/data/resample.hpp>
#include <feral/data/split.hpp>
#include <feral/data/transforms.hpp>
#include <feral/features/pca.hpp>
#include <feral/metrics/accuracy.hpp>
#include <feral/metrics/classification_report.hpp>
#include <feral/models/gaussian_nb.hpp>
#include <feral/models/kmeans.hpp>
#include <feral/models/knn.hpp>
#include <feral/models/logistic_regression.hpp>
#include <feral/models/pipeline.hpp>
#include <feral/models/random_forest.hpp>
#include <feral/models/svc.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

const std::vector<std::string>& all_pipelines() {
    static const std::vector<std::string> names = {"nb",      "logreg",    "pca_logreg", "kmeans_logreg",
                                                   "pca_knn", "rf_depth5", "rf_full",    "pca_svm"};
    return names;
}

struct Inputs {
    feral::Matrix<float> train;  // pixels as floats (raw 0..255, or / 255 for rf_full)
    feral::Labels train_labels;
    feral::Matrix<float> test;
    feral::Labels test_labels;
};

// Fits `model` on the training inputs, predicts the test inputs, prints one JSON line.
template <class Model>
void run(const std::string& name, Model model, const Inputs& in, int threads) {
    const auto fit_start = Clock::now();
    model.fit(in.train, in.train_labels);
    const double fit_seconds = seconds_since(fit_start);
    const auto predict_start = Clock::now();
    const feral::Labels predicted = model.predict(in.test);
    const double predict_seconds = seconds_since(predict_start);

    const nlohmann::ordered_json line = {
        {"library", "feral"},
        {"pipeline", name},
        {"threads", threads},
        {"n_train", in.train.rows()},
        {"n_test", in.test.rows()},
        {"fit_seconds", fit_seconds},
        {"predict_seconds", predict_seconds},
        {"accuracy", feral::accuracy_score(in.test_labels, predicted)},
        {"macro_f1", feral::precision_recall_fscore_support(in.test_labels, predicted).average(feral::Average::macro).f1},
    };
    std::cout << line.dump() << std::endl;
}

// PCA components: `wanted`, or fewer when the training set is smaller (small --limit runs).
feral::Index components(feral::Index wanted, const feral::Matrix<float>& X) { return std::min({wanted, X.rows(), X.cols()}); }

std::set<std::string> parse_only(const std::string& only) {
    std::set<std::string> chosen;
    std::stringstream list(only);
    std::string name;
    while (std::getline(list, name, ',')) {
        if (name.empty()) continue;
        bool known = false;
        for (const auto& p : all_pipelines()) known = known || p == name;
        if (!known) {
            std::string names;
            for (const auto& p : all_pipelines()) names += (names.empty() ? "" : ", ") + p;
            feral::detail::fail("feral_bench_models: unknown pipeline '", name, "' in --only (known: ", names, ")");
        }
        chosen.insert(name);
    }
    return chosen;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"feral's classical-model pipelines on FER2013 folders, printed as JSON lines"};
    std::string train_dir, test_dir, only;
    long limit = 0;
    int threads = 0;
    app.add_option("--train", train_dir, "training folder (root/<class>/*.png)")->required();
    app.add_option("--test", test_dir, "test folder (root/<class>/*.png)")->required();
    app.add_option("--limit", limit, "keep the first N images of each class of both folders (0 = all)")->check(CLI::NonNegativeNumber);
    app.add_option("--threads", threads, "threads (0 = FERAL_NUM_THREADS or all cores)")->check(CLI::NonNegativeNumber);
    app.add_option("--only", only, "comma-separated pipelines to run (default: all)");
    CLI11_PARSE(app, argc, argv);

    try {
        const std::set<std::string> chosen = parse_only(only);
        auto wanted = [&](const std::string& name) { return chosen.empty() || chosen.count(name) > 0; };
        threads = feral::resolve_threads(threads);
        // Every feral loop and Eigen's OpenMP products use the same number of threads.
        setenv("FERAL_NUM_THREADS", std::to_string(threads).c_str(), 1);
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif

        feral::Dataset train = feral::load_image_folder(train_dir, {.keep_sources = false, .n_threads = threads}).data;
        feral::Dataset test = feral::load_image_folder(test_dir, {.keep_sources = false, .n_threads = threads}).data;
        if (limit > 0) {
            train = feral::first_n_per_class(train, limit);
            test = feral::first_n_per_class(test, limit);
        }

        Inputs raw{feral::to_float<float>(train, feral::PixelScale::raw), train.labels,
                   feral::to_float<float>(test, feral::PixelScale::raw), test.labels};
        using feral::GlobalStandardizer;
        using feral::LogisticSolver;
        using feral::Penalty;

        if (wanted("nb")) run("nb", feral::make_pipeline(GlobalStandardizer<float>{}, feral::GaussianNB<float>({.n_threads = threads})), raw, threads);
        if (wanted("logreg"))
            run("logreg",
                feral::make_pipeline(GlobalStandardizer<float>{},
                                     feral::LogisticRegression<float>({.penalty = Penalty::l2, .tol = 0.1,
                                                                       .solver = LogisticSolver::saga, .n_threads = threads})),
                raw, threads);
        if (wanted("pca_logreg")) {
            // A stratified 20% of the training set (the other 80% is the split's "test" part).
            const auto part = feral::stratified_split(train.labels, {.test = 0.8, .seed = 0});
            const feral::Dataset subset = train.subset(part.train);
            const Inputs small{feral::to_float<float>(subset, feral::PixelScale::raw), subset.labels, raw.test, raw.test_labels};
            run("pca_logreg",
                feral::make_pipeline(GlobalStandardizer<float>{}, feral::PCA<float>({.n_components = components(300, small.train), .n_threads = threads}),
                                     feral::LogisticRegression<float>({.tol = 1e-3, .max_iter = 2000,
                                                                       .solver = LogisticSolver::lbfgs, .n_threads = threads})),
                small, threads);
        }
        if (wanted("kmeans_logreg"))
            run("kmeans_logreg",
                feral::make_pipeline(GlobalStandardizer<float>{}, feral::KMeans<float>({.n_clusters = 35, .n_threads = threads}),
                                     feral::LogisticRegression<float>({.penalty = Penalty::none, .tol = 0.1,
                                                                       .solver = LogisticSolver::saga, .n_threads = threads})),
                raw, threads);
        if (wanted("pca_knn"))
            run("pca_knn",
                feral::make_pipeline(GlobalStandardizer<float>{}, feral::PCA<float>({.n_components = components(100, raw.train), .n_threads = threads}),
                                     feral::KNeighborsClassifier<float>({.n_neighbors = 1, .n_threads = threads})),
                raw, threads);
        if (wanted("rf_depth5"))
            run("rf_depth5",
                feral::make_pipeline(GlobalStandardizer<float>{},
                                     feral::RandomForestClassifier<float>({.n_estimators = 100, .max_depth = 5, .n_threads = threads})),
                raw, threads);
        if (wanted("rf_full")) {
            const Inputs unit{feral::to_float<float>(train, feral::PixelScale::unit), train.labels,
                              feral::to_float<float>(test, feral::PixelScale::unit), test.labels};
            run("rf_full", feral::make_pipeline(feral::RandomForestClassifier<float>({.n_estimators = 100, .n_threads = threads})),
                unit, threads);
        }
        if (wanted("pca_svm"))
            run("pca_svm",
                feral::make_pipeline(GlobalStandardizer<float>{}, feral::PCA<float>({.n_components = components(50, raw.train), .n_threads = threads}),
                                     feral::SVC<float>({.kernel = feral::Kernel::rbf, .C = 1.0, .gamma = feral::Gamma::scale(),
                                                        .n_threads = threads})),
                raw, threads);
    } catch (const feral::error& e) {
        std::cerr << "feral_bench_models: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
