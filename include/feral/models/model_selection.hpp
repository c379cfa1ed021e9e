// feral/models/model_selection.hpp — cross-validated scores of an estimator.
//
// cross_val_score(estimator, X, y, {.n_splits = 5})
//   Splits (X, y) with stratified k-fold (feral::stratified_kfold, data/split.hpp: the
//   folds of scikit-learn 1.2's StratifiedKFold when shuffle is false), fits a copy of
//   `estimator` on each fold's training rows and returns its score() on the fold's test
//   rows: one value per fold, in fold order. This is scikit-learn's
//   cross_val_score(estimator, X, y, cv=StratifiedKFold(n_splits)), and for a classifier
//   the score is the mean accuracy in [0, 1].
//
// Folds run in parallel (feral::parallel_for_dynamic, Config::n_threads workers). Inside
// a worker, the estimator's own parallel loops run serially (core/threads.hpp never nests
// pools) and Eigen's OpenMP products are kept to one thread, so k folds on k cores never
// over-subscribe them. Each fold's result depends only on the fold and the estimator's
// own seed, never on the number of threads.
//
// Example:
//   auto model = feral::make_pipeline(feral::StandardScaler<>{}, feral::GaussianNB<>{});
//   std::vector<double> scores = feral::cross_val_score(model, X, y, {.n_splits = 5});
//
// The estimator is any copyable type with fit(X, y) and score(X, y) (every feral
// classifier, a Pipeline ending in one); `estimator` itself is left untouched.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/huge_pages.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/data/split.hpp"

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace feral {

/// What cross-validation needs from an estimator: fit on (X, y), score on (X, y).
template <class Estimator, class T>
concept cross_validatable = std::copy_constructible<Estimator> &&
                            requires(Estimator& e, const Estimator& c, ConstMatrixRef<T> X, ConstLabelsRef y) {
                                e.fit(X, y);
                                { c.score(X, y) } -> std::convertible_to<double>;
                            };

/// How to cross-validate (scikit-learn's StratifiedKFold arguments plus the thread count).
struct CrossValidation {
    int n_splits = 5;                ///< k, the number of folds (>= 2)
    bool shuffle = false;            ///< shuffle each class's fold numbers (seeded) before splitting
    std::uint64_t random_state = 0;  ///< seed for shuffle
    int n_threads = 0;               ///< workers over folds; 0 = FERAL_NUM_THREADS or all cores
};

namespace detail {

/// For the lifetime of this object, Eigen's OpenMP-parallel products on this thread use
/// one thread (Eigen reads omp_get_max_threads(), a per-thread setting), when `active`.
/// Used inside model-selection workers when several run at once: they already keep every
/// core busy.
class SingleThreadedEigen {
public:
    explicit SingleThreadedEigen(bool active) : active_(active) {
#ifdef _OPENMP
        if (!active_) return;
        saved_ = omp_get_max_threads();
        omp_set_num_threads(1);
#endif
    }
    SingleThreadedEigen(const SingleThreadedEigen&) = delete;
    SingleThreadedEigen& operator=(const SingleThreadedEigen&) = delete;
    ~SingleThreadedEigen() {
#ifdef _OPENMP
        if (active_) omp_set_num_threads(saved_);
#endif
    }

private:
    [[maybe_unused]] bool active_ = false;
    [[maybe_unused]] int saved_ = 1;
};

/// Whether parallel_for_dynamic over `tasks` items with `threads` will run several workers.
inline bool runs_in_parallel(std::int64_t tasks, int threads) {
    return !in_parallel_region && std::min<std::int64_t>(resolve_threads(threads), tasks) > 1;
}

/// The rows `rows` of X, in order, as a new matrix.
template <class T>
Matrix<T> take_rows(ConstMatrixRef<T> X, const std::vector<Index>& rows) {
    Matrix<T> out(static_cast<Index>(rows.size()), X.cols());
    advise_huge_pages(out);  // written whole, once: see core/huge_pages.hpp
    for (std::size_t i = 0; i < rows.size(); ++i) out.row(static_cast<Index>(i)) = X.row(rows[i]);
    return out;
}

inline Labels take_labels(ConstLabelsRef y, const std::vector<Index>& rows) {
    Labels out(static_cast<Index>(rows.size()));
    for (std::size_t i = 0; i < rows.size(); ++i) out[static_cast<Index>(i)] = y[rows[i]];
    return out;
}

/// Fits `model` (a fresh copy) on the fold's training rows, returns its score on the test rows.
template <class T, class Estimator>
double fit_and_score(Estimator model, ConstMatrixRef<T> X, ConstLabelsRef y, const Fold& fold) {
    {
        const Matrix<T> X_train = take_rows<T>(X, fold.train);
        model.fit(X_train, take_labels(y, fold.train));
    }
    const Matrix<T> X_test = take_rows<T>(X, fold.test);
    return static_cast<double>(model.score(X_test, take_labels(y, fold.test)));
}

/// Rethrows the current feral exception with `context` put in front of its message,
/// keeping its type (so callers can still catch invalid_argument, not_fitted, ...).
[[noreturn]] inline void rethrow_with_context(const std::string& context) {
    try {
        throw;
    } catch (const invalid_argument& e) {
        throw invalid_argument(context + e.what());
    } catch (const format_error& e) {
        throw format_error(context + e.what());
    } catch (const not_fitted& e) {
        throw not_fitted(context + e.what());
    } catch (const numerical_error& e) {
        throw numerical_error(context + e.what());
    } catch (const io_error& e) {
        throw io_error(context + e.what());
    }
    // Anything else (std::bad_alloc, a user's own exception) goes up unchanged.
}

/// Checks X and y before splitting: same number of rows, non-empty.
template <class T>
void check_cross_validation_input(ConstMatrixRef<T> X, ConstLabelsRef y, const char* where) {
    if (X.rows() == 0 || X.cols() == 0) fail(where, ": empty input (", X.rows(), " samples x ", X.cols(), " features)");
    if (X.rows() != y.size()) fail(where, ": X has ", X.rows(), " samples but y has ", y.size(), " labels");
}

}  // namespace detail

/// Score of `estimator` on each of the given folds (fitted on fold.train, scored on
/// fold.test), in fold order; folds run in parallel over n_threads workers.
/// requires: every index in the folds is a row of X.
/// throws:   invalid_argument for mismatched X/y, an empty fold or an out-of-range row;
///           an estimator's exception, its message prefixed with the fold number.
template <class T, class Estimator>
    requires cross_validatable<Estimator, T>
std::vector<double> cross_val_score(const Estimator& estimator, ConstMatrixRef<T> X, ConstLabelsRef y,
                                    const std::vector<Fold>& folds, int n_threads = 0) {
    constexpr const char* where = "cross_val_score";
    detail::check_cross_validation_input<T>(X, y, where);
    if (folds.empty()) detail::fail(where, ": no folds given");
    for (std::size_t f = 0; f < folds.size(); ++f) {
        if (folds[f].train.empty() || folds[f].test.empty())
            detail::fail(where, ": fold ", f, " has ", folds[f].train.size(), " training and ", folds[f].test.size(),
                         " test rows; both must be non-empty");
        for (const auto* rows : {&folds[f].train, &folds[f].test})
            for (Index r : *rows)
                if (r < 0 || r >= X.rows()) detail::fail(where, ": fold ", f, " names row ", r, ", X has rows 0..", X.rows() - 1);
    }
    std::vector<double> scores(folds.size());
    const auto n_folds = static_cast<std::int64_t>(folds.size());
    const bool parallel = detail::runs_in_parallel(n_folds, n_threads);
    parallel_for_dynamic(0, n_folds, n_threads, [&](std::int64_t f) {
        const detail::SingleThreadedEigen one_thread_inside(parallel);
        try {
            scores[static_cast<std::size_t>(f)] = detail::fit_and_score<T>(estimator, X, y, folds[static_cast<std::size_t>(f)]);
        } catch (const error&) {
            detail::rethrow_with_context(detail::message(where, ": fold ", f, ": "));
        }
    });
    return scores;
}

/// Stratified k-fold cross-validation score of `estimator` on (X, y): one score per fold.
/// requires: n_splits >= 2, no more folds than samples, and at least one class with
///           n_splits members (stratified_kfold's rules).
/// throws:   invalid_argument for bad input or configuration; estimator errors as above.
template <class Estimator, class Derived>
    requires cross_validatable<Estimator, typename Derived::Scalar>
std::vector<double> cross_val_score(const Estimator& estimator, const Eigen::MatrixBase<Derived>& X, ConstLabelsRef y,
                                    const CrossValidation& cv = {}) {
    using T = typename Derived::Scalar;
    const ConstMatrixRef<T> features(X.derived());
    detail::check_cross_validation_input<T>(features, y, "cross_val_score");
    if (cv.n_splits < 2) detail::fail("cross_val_score: n_splits must be at least 2, got ", cv.n_splits);
    const auto folds = stratified_kfold(y, cv.n_splits, cv.shuffle, cv.random_state);
    return cross_val_score<T>(estimator, features, y, folds, cv.n_threads);
}

}  // namespace feral
