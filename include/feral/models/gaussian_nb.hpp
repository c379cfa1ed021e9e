// feral/models/gaussian_nb.hpp — Gaussian naive Bayes classifier.
//
// Model: each class c has a prior pi_c and, per feature j, a normal distribution with
// mean theta(c, j) and variance var(c, j); features are independent given the class.
// The joint log-likelihood of a sample x and class c is
//
//   jll(x, c) = log pi_c - 1/2 sum_j log(2 pi var(c, j)) - 1/2 sum_j (x_j - theta(c, j))^2 / var(c, j)
//
// predict takes the class with the largest jll; predict_log_proba subtracts
// log-sum-exp over classes (stable for thousands of features, where the likelihoods
// themselves underflow); predict_proba exponentiates that.
//
// Fitting (as scikit-learn 1.2's GaussianNB): theta and var are the per-class mean and
// population variance of each feature; every variance is then increased by
// epsilon = var_smoothing * (largest population variance of a feature over all of X),
// which keeps constant features from dividing by zero. Priors are the class
// frequencies unless given.
//
// Example:
//   feral::GaussianNB<> nb;                       // float, scikit-learn's defaults
//   nb.fit(X_train, y_train);
//   feral::Labels predicted = nb.predict(X_test);
//   double accuracy = nb.score(X_test, y_test);   // in [0, 1]
//
// Performance: fit is two passes over X with double accumulators, parallel over fixed
// row parts whose partial sums are added in order (detail::column_moments), so results
// do not depend on the thread count. predict expands the square,
//   sum_j (x_j - theta_j)^2 / var_j = x^2 . (1 / var) - 2 x . (theta / var) + sum_j theta_j^2 / var_j,
// so a block of rows costs two matrix products with the k x d matrices 1/var and
// theta/var. X is first shifted by the overall feature mean (the expansion is then
// of small numbers, which keeps float's cancellation error small). Row blocks of a
// fixed size run in parallel.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/detail/column_moments.hpp"
#include "feral/features/standard_scaler.hpp"  // detail::without_eigen_threads
#include "feral/models/class_labels.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

namespace feral {

template <class T = float>
class GaussianNB {
    static_assert(std::is_floating_point_v<T>, "GaussianNB<T>: T must be float or double");

public:
    struct Config {
        /// Fraction of the largest feature variance added to every variance (scikit-learn: 1e-9). >= 0.
        double var_smoothing = 1e-9;
        /// Class priors in the order of classes(); empty = class frequencies in the training data.
        /// Must be non-negative, one per class, and sum to 1.
        std::vector<double> priors = {};
        /// Threads for fit and predict; 0 = FERAL_NUM_THREADS or all cores.
        int n_threads = 0;
    };

    GaussianNB() = default;
    explicit GaussianNB(Config config) : config_(std::move(config)) {}

    /// Learns priors, means and variances. Refitting forgets the previous fit.
    /// Throws invalid_argument for empty, non-finite or mismatched input, fewer than two
    /// classes, negative var_smoothing, or priors that are not a distribution over the classes.
    GaussianNB& fit(ConstMatrixRef<T> X, ConstLabelsRef y);

    /// Class label (from classes()) of the largest joint log-likelihood, per row.
    [[nodiscard]] Labels predict(ConstMatrixRef<T> X) const;
    /// Unnormalised log P(x, c): rows = samples, columns follow classes().
    [[nodiscard]] Matrix<T> predict_joint_log_proba(ConstMatrixRef<T> X) const;
    /// log P(c | x), computed with log-sum-exp; columns follow classes().
    [[nodiscard]] Matrix<T> predict_log_proba(ConstMatrixRef<T> X) const;
    /// P(c | x); each row sums to 1; columns follow classes().
    [[nodiscard]] Matrix<T> predict_proba(ConstMatrixRef<T> X) const;
    /// Mean accuracy in [0, 1]; every label of y must have been seen during fit.
    [[nodiscard]] double score(ConstMatrixRef<T> X, ConstLabelsRef y) const;

    [[nodiscard]] const std::vector<int>& classes() const { return labels_.classes(); }
    [[nodiscard]] bool is_fitted() const { return !labels_.empty(); }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] Index n_features_in() const { return n_features_; }

    /// Per-class feature means, classes x features (scikit-learn's theta_).
    [[nodiscard]] const Matrix<T>& theta() const { check_fitted(is_fitted(), "GaussianNB"); return theta_; }
    /// Per-class feature variances including epsilon(), classes x features (var_).
    [[nodiscard]] const Matrix<T>& var() const { check_fitted(is_fitted(), "GaussianNB"); return var_; }
    /// Prior of each class (class_prior_).
    [[nodiscard]] const Vector<double>& class_prior() const { check_fitted(is_fitted(), "GaussianNB"); return class_prior_; }
    /// Training samples of each class (class_count_).
    [[nodiscard]] const Vector<double>& class_count() const { check_fitted(is_fitted(), "GaussianNB"); return class_count_; }
    /// The variance added to every var() entry (epsilon_).
    [[nodiscard]] double epsilon() const { check_fitted(is_fitted(), "GaussianNB"); return epsilon_; }

    /// Saves the configuration and the fitted model; refuses to replace a file unless told.
    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const;
    /// Loads a model written by save(); format_error for another estimator's file or a corrupt one.
    static GaussianNB load(const std::filesystem::path& path);

    static std::string type_tag() { return std::string("GaussianNB<") + scalar_name<T>() + ">"; }

private:
    static constexpr Index kRowBlock = 256;     // rows per prediction block
    static constexpr std::uint32_t kPayloadVersion = 1;

    void prepare_prediction();
    void check_input(const ConstMatrixRef<T>& X, const char* where) const {
        check_fitted(is_fitted(), "GaussianNB");
        check_not_empty(X, where);
        if (X.cols() != n_features_)
            detail::fail(where, ": X has ", X.cols(), " features, but the model was fitted with ", n_features_);
        check_finite(X, where);
    }

    Config config_;
    ClassLabels labels_;
    Index n_features_ = 0;
    Matrix<T> theta_, var_;
    Vector<double> class_prior_, class_count_;
    double epsilon_ = 0;
    // Prediction terms (derived from the above; see the header comment).
    RowVector<T> shift_;            // overall feature means
    Matrix<T> half_precision_;      // 0.5 / var
    Matrix<T> scaled_means_;        // (theta - shift) / var
    RowVector<T> constant_;         // log prior - 1/2 sum log(2 pi var) - 1/2 sum (theta - shift)^2 / var
};

// ---------------------------------------------------------------------------------

template <class T>
GaussianNB<T>& GaussianNB<T>::fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
    constexpr const char* where = "GaussianNB::fit";
    if (!(config_.var_smoothing >= 0) || !std::isfinite(config_.var_smoothing))
        detail::fail(where, ": var_smoothing must be a finite number >= 0, got ", config_.var_smoothing);
    check_not_empty(X, where);
    check_labels(X, y, where);
    check_finite(X, where);
    ClassLabels labels;
    labels.fit(y, where);
    const Index k = labels.size(), n = X.rows(), d = X.cols();
    const Labels index = labels.encode(y, where);

    Vector<double> counts = Vector<double>::Zero(k);
    for (Index i = 0; i < n; ++i) counts[index[i]] += 1;
    Vector<double> prior(k);
    if (config_.priors.empty()) {
        prior = counts / static_cast<double>(n);
    } else {
        if (static_cast<Index>(config_.priors.size()) != k)
            detail::fail(where, ": ", config_.priors.size(), " priors given for ", k, " classes (", labels.list(), ")");
        double sum = 0;
        for (std::size_t c = 0; c < config_.priors.size(); ++c) {
            if (!(config_.priors[c] >= 0) || !std::isfinite(config_.priors[c]))
                detail::fail(where, ": prior ", c, " is ", config_.priors[c], "; priors must be finite and >= 0");
            sum += config_.priors[c];
        }
        if (std::abs(sum - 1.0) > 1e-8 + 1e-5)  // numpy.isclose(sum, 1), as scikit-learn checks
            detail::fail(where, ": the priors sum to ", sum, ", expected 1");
        prior = Eigen::Map<const Vector<double>>(config_.priors.data(), k);
    }

    // Per-class and overall means and population variances (double accumulators).
    const detail::ColumnMoments by_class = detail::column_moments<T>(X, index.data(), k, config_.n_threads);
    Matrix<double> variance = by_class.sum_squares;
    for (Index c = 0; c < k; ++c) variance.row(c) /= counts[c];
    // Overall statistics from the per-class ones (no further pass over X):
    // mean = sum_c n_c mean_c / n,  sum of squares = sum_c (SS_c + n_c (mean_c - mean)^2).
    const RowVector<double> overall_mean = (counts.transpose() * by_class.mean) / static_cast<double>(n);
    RowVector<double> overall_squares = RowVector<double>::Zero(d);
    for (Index c = 0; c < k; ++c)
        overall_squares += by_class.sum_squares.row(c) + counts[c] * (by_class.mean.row(c) - overall_mean).cwiseAbs2();
    const RowVector<double> overall_variance = overall_squares / static_cast<double>(n);

    labels_ = std::move(labels);
    n_features_ = d;
    epsilon_ = config_.var_smoothing * overall_variance.maxCoeff();
    theta_ = by_class.mean.cast<T>();
    var_ = (variance.array() + epsilon_).matrix().cast<T>();
    class_count_ = counts;
    class_prior_ = prior;
    shift_ = overall_mean.cast<T>();
    prepare_prediction();
    return *this;
}

template <class T>
void GaussianNB<T>::prepare_prediction() {
    const Index k = theta_.rows(), d = theta_.cols();
    if ((var_.array() <= T(0)).any())
        detail::fail<numerical_error>("GaussianNB: a variance is zero or negative (all features constant and "
                                      "var_smoothing = 0?); increase var_smoothing");
    half_precision_.resize(k, d);
    scaled_means_.resize(k, d);
    constant_.resize(k);
    for (Index c = 0; c < k; ++c) {
        double constant = std::log(class_prior_[c]);
        for (Index j = 0; j < d; ++j) {
            const double v = var_(c, j);
            const double centred = static_cast<double>(theta_(c, j)) - static_cast<double>(shift_[j]);
            half_precision_(c, j) = static_cast<T>(0.5 / v);
            scaled_means_(c, j) = static_cast<T>(centred / v);
            constant -= 0.5 * std::log(2.0 * std::numbers::pi * v) + 0.5 * centred * centred / v;
        }
        constant_[c] = static_cast<T>(constant);
    }
}

template <class T>
Matrix<T> GaussianNB<T>::predict_joint_log_proba(ConstMatrixRef<T> X) const {
    check_input(X, "GaussianNB::predict_joint_log_proba");
    const Index n = X.rows(), d = n_features_;
    Matrix<T> jll(n, labels_.size());
    const Index blocks = (n + kRowBlock - 1) / kRowBlock;
    detail::without_eigen_threads([&] {
        parallel_for(0, blocks, config_.n_threads, [&](std::int64_t b0, std::int64_t b1) {
            Matrix<T> centred(kRowBlock, d), squared(kRowBlock, d);  // one workspace per chunk
            for (std::int64_t b = b0; b < b1; ++b) {
                const Index r0 = b * kRowBlock, rows = std::min(kRowBlock, n - r0);
                auto xc = centred.topRows(rows);
                auto xs = squared.topRows(rows);
                xc.noalias() = X.middleRows(r0, rows).rowwise() - shift_;
                xs = xc.array().square().matrix();
                // jll = x.(theta/var) - x^2.(1/(2 var)) + constant   (x shifted)
                auto out = jll.middleRows(r0, rows);
                out.noalias() = xc * scaled_means_.transpose();
                out.noalias() -= xs * half_precision_.transpose();
                out.rowwise() += constant_;
            }
        });
    });
    return jll;
}

template <class T>
Matrix<T> GaussianNB<T>::predict_log_proba(ConstMatrixRef<T> X) const {
    check_fitted(is_fitted(), "GaussianNB");
    Matrix<T> out = predict_joint_log_proba(X);
    for (Index i = 0; i < out.rows(); ++i) {
        const T largest = out.row(i).maxCoeff();
        const T log_sum = largest + std::log((out.row(i).array() - largest).exp().sum());
        out.row(i).array() -= log_sum;
    }
    return out;
}

template <class T>
Matrix<T> GaussianNB<T>::predict_proba(ConstMatrixRef<T> X) const {
    check_fitted(is_fitted(), "GaussianNB");
    Matrix<T> out = predict_log_proba(X);
    out = out.array().exp().matrix();
    return out;
}

template <class T>
Labels GaussianNB<T>::predict(ConstMatrixRef<T> X) const {
    check_fitted(is_fitted(), "GaussianNB");
    return labels_.decode_argmax(predict_joint_log_proba(X));
}

template <class T>
double GaussianNB<T>::score(ConstMatrixRef<T> X, ConstLabelsRef y) const {
    check_fitted(is_fitted(), "GaussianNB");
    if (X.rows() != y.size())
        detail::fail("GaussianNB::score: X has ", X.rows(), " samples but y has ", y.size(), " labels");
    return accuracy_against(predict(X), y, labels_, "GaussianNB::score");
}

template <class T>
void GaussianNB<T>::save(const std::filesystem::path& path, Overwrite overwrite) const {
    check_fitted(is_fitted(), "GaussianNB");
    ByteWriter w;
    w.write(config_.var_smoothing);
    w.write_vector(config_.priors);
    w.write(config_.n_threads);
    labels_.save(w);
    w.write<std::int64_t>(n_features_);
    w.write_matrix(theta_);
    w.write_matrix(var_);
    w.write_matrix(class_prior_);
    w.write_matrix(class_count_);
    w.write(epsilon_);
    w.write_matrix(shift_);
    write_container(path, type_tag(), kPayloadVersion, w.bytes(), overwrite);
}

template <class T>
GaussianNB<T> GaussianNB<T>::load(const std::filesystem::path& path) {
    const Container c = read_container(path, type_tag());
    if (c.payload_version() != kPayloadVersion)
        detail::fail<format_error>("'", path.string(), "': GaussianNB payload version ", c.payload_version(),
                                   ", this feral reads version ", kPayloadVersion);
    ByteReader r = c.reader();
    GaussianNB model;
    r.read(model.config_.var_smoothing);
    model.config_.priors = r.read_vector<double>();
    r.read(model.config_.n_threads);
    model.labels_.load(r);
    model.n_features_ = static_cast<Index>(r.read<std::int64_t>());
    model.theta_ = r.read_matrix<Matrix<T>>();
    model.var_ = r.read_matrix<Matrix<T>>();
    model.class_prior_ = r.read_matrix<Vector<double>>();
    model.class_count_ = r.read_matrix<Vector<double>>();
    r.read(model.epsilon_);
    model.shift_ = r.read_matrix<RowVector<T>>();
    r.expect_end();
    const Index k = model.labels_.size(), d = model.n_features_;
    if (k < 2 || model.theta_.rows() != k || model.theta_.cols() != d || model.var_.rows() != k ||
        model.var_.cols() != d || model.class_prior_.size() != k || model.class_count_.size() != k ||
        model.shift_.size() != d)
        detail::fail<format_error>("'", path.string(), "': inconsistent GaussianNB model (", k, " classes, ", d,
                                   " features)");
    model.prepare_prediction();
    return model;
}

}  // namespace feral
