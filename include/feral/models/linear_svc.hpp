// feral/models/linear_svc.hpp — linear support vector classifier (scikit-learn's
// LinearSVC, i.e. liblinear's L2-regularised dual coordinate descent).
//
// Template parameter T: the scalar type of X (float by default).
//
// Example:
//   feral::LinearSVC<> svm({.C = 0.1});
//   svm.fit(X_train, y_train);
//   feral::Labels predicted = svm.predict(X_test);
//   const feral::Matrix<double>& w = svm.coef();   // n_classes x n_features (1 x n_features for 2 classes)
//
// Problem (one per class, one-vs-rest; a single one for two classes, positive = classes()[1]):
//   min_w  1/2 |w|^2 + C sum_i loss(y_i w.x_i),  loss = max(0, 1 - m)^2 (squared hinge) or max(0, 1 - m) (hinge)
// with x_i extended by the constant intercept_scaling, so the intercept is
// intercept_scaling * w_last and is regularised like the weights (liblinear's bias).
// Solved in the dual (Hsieh et al., "A dual coordinate descent method for large-scale
// linear SVM", ICML 2008): sweep the variables in random order, each a 1-D Newton step
//   a_i <- clip(a_i - G_i / Q_ii, 0, U),  G_i = y_i w.x_i - 1 + D_ii a_i,
//   D_ii = 1 / (2 C_i), U = inf (squared hinge);  D_ii = 0, U = C_i (hinge),
// keeping w = sum_i y_i a_i x_i; variables at a bound whose projected gradient is
// beyond the last sweep's range are shrunk; stop when max - min projected gradient <= tol
// on the full set. The per-class problems run in parallel. Class weights multiply the
// positive class's C (liblinear's rule: the "rest" keep C).
//
// Parameters (defaults = scikit-learn 1.2):
//   loss               squared_hinge   or hinge
//   C                  1.0             > 0
//   tol                1e-4            > 0
//   max_iter           1000            sweeps per problem (>= 1)
//   fit_intercept      true
//   intercept_scaling  1.0             > 0
//   class_weight       none            none, balanced, custom
//   random_state       0               seeds the sweep order
//   n_threads          0
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/detail/class_weight.hpp"
#include "feral/models/class_labels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace feral {

enum class SvmLoss : std::int32_t { squared_hinge, hinge };

template <class T = float>
class LinearSVC {
public:
    struct Config {
        SvmLoss loss = SvmLoss::squared_hinge;
        double C = 1.0;
        double tol = 1e-4;
        std::int64_t max_iter = 1000;
        bool fit_intercept = true;
        double intercept_scaling = 1.0;
        ClassWeight class_weight = ClassWeight::none();
        std::uint64_t random_state = 0;
        int n_threads = 0;
    };

    LinearSVC() = default;
    explicit LinearSVC(Config config) : config_(std::move(config)) {}

    LinearSVC& fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
        constexpr const char* where = "LinearSVC::fit";
        if (!(config_.C > 0) || !std::isfinite(config_.C)) detail::fail(where, ": C = ", config_.C, " must be a positive number");
        if (!(config_.tol > 0)) detail::fail(where, ": tol = ", config_.tol, " must be > 0");
        if (config_.max_iter < 1) detail::fail(where, ": max_iter = ", config_.max_iter, " must be >= 1");
        if (config_.fit_intercept && !(config_.intercept_scaling > 0))
            detail::fail(where, ": intercept_scaling = ", config_.intercept_scaling, " must be > 0");
        if (config_.loss != SvmLoss::squared_hinge && config_.loss != SvmLoss::hinge)
            detail::fail(where, ": unknown loss ", static_cast<int>(config_.loss));
        check_fit_input(X, y, where);
        ClassLabels classes;
        classes.fit(y, where);
        const Labels dense = classes.encode(y, where);
        const auto weights = config_.class_weight.per_class(classes, dense, where);
        const Index k = classes.size(), d = X.cols();
        const Index n_problems = k == 2 ? 1 : k;
        const double bias = config_.fit_intercept ? config_.intercept_scaling : 0.0;

        Vector<double> sq_norms(X.rows());
        for (Index i = 0; i < X.rows(); ++i) sq_norms[i] = X.row(i).template cast<double>().squaredNorm() + bias * bias;
        coef_ = Matrix<double>::Zero(n_problems, d);
        intercept_ = Vector<double>::Zero(n_problems);
        n_iter_.assign(static_cast<std::size_t>(n_problems), 0);
        const Random master(config_.random_state);
        parallel_for_dynamic(0, n_problems, config_.n_threads, [&](std::int64_t p) {
            // Two classes: one problem with classes()[1] positive (C_+ = C w_1, C_- = C w_0).
            const Index positive = k == 2 ? 1 : p;
            const double c_pos = config_.C * weights[static_cast<std::size_t>(positive)];
            const double c_neg = k == 2 ? config_.C * weights[0] : config_.C;
            std::vector<std::int8_t> labels(static_cast<std::size_t>(X.rows()));
            for (Index i = 0; i < X.rows(); ++i) labels[static_cast<std::size_t>(i)] = dense[i] == positive ? 1 : -1;
            Random rng = master.fork(static_cast<std::uint64_t>(p));
            Vector<double> w = Vector<double>::Zero(d + 1);
            n_iter_[static_cast<std::size_t>(p)] = solve(X, labels, sq_norms, bias, c_pos, c_neg, rng, w);
            coef_.row(p) = w.head(d).transpose();
            intercept_[p] = bias * w[d];
        });
        classes_ = std::move(classes);
        n_features_ = d;
        return *this;
    }

    /// X coef^T + intercept: n x 1 for two classes (positive = classes()[1]), else n x n_classes.
    [[nodiscard]] Matrix<double> decision_function(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "LinearSVC");
        check_predict_input(X, n_features_, "LinearSVC::decision_function");
        Matrix<double> out(X.rows(), coef_.rows());
        parallel_for(0, X.rows(), config_.n_threads, [&](std::int64_t b, std::int64_t e) {
            for (Index i = b; i < e; ++i)
                out.row(i) = (coef_ * X.row(i).transpose().template cast<double>()).transpose() + intercept_.transpose();
        });
        return out;
    }

    [[nodiscard]] Labels predict(ConstMatrixRef<T> X) const {
        const Matrix<double> dec = decision_function(X);
        if (dec.cols() > 1) return classes_.decode_argmax(dec);
        Labels out(X.rows());  // two classes: one decision column, positive means the second class
        for (Index i = 0; i < X.rows(); ++i) out[i] = classes_.decode(dec(i, 0) > 0 ? 1 : 0);
        return out;
    }

    [[nodiscard]] double score(ConstMatrixRef<T> X, ConstLabelsRef y) const {
        return accuracy_against(predict(X), y, classes_, "LinearSVC::score");
    }

    [[nodiscard]] const std::vector<int>& classes() const { return classes_.classes(); }
    [[nodiscard]] bool is_fitted() const { return !classes_.empty(); }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] Index n_features() const { return n_features_; }
    /// Weights, one row per one-vs-rest problem (a single row for two classes).
    [[nodiscard]] const Matrix<double>& coef() const {
        check_fitted(is_fitted(), "LinearSVC");
        return coef_;
    }
    [[nodiscard]] const Vector<double>& intercept() const {
        check_fitted(is_fitted(), "LinearSVC");
        return intercept_;
    }
    /// Sweeps used per problem (== max_iter means it stopped before reaching tol).
    [[nodiscard]] const std::vector<std::int64_t>& n_iter() const {
        check_fitted(is_fitted(), "LinearSVC");
        return n_iter_;
    }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        check_fitted(is_fitted(), "LinearSVC");
        ByteWriter w;
        w.write(config_.loss);
        w.write(config_.C);
        w.write(config_.tol);
        w.write(config_.max_iter);
        w.write<std::uint8_t>(config_.fit_intercept);
        w.write(config_.intercept_scaling);
        config_.class_weight.save(w);
        w.write(config_.random_state);
        w.write<std::int32_t>(config_.n_threads);
        classes_.save(w);
        w.write<std::int64_t>(n_features_);
        w.write_matrix(coef_);
        w.write_matrix(intercept_);
        w.write_vector(n_iter_);
        write_container(path, type_tag(), 1, w.bytes(), overwrite);
    }

    static LinearSVC load(const std::filesystem::path& path) {
        const Container c = read_container(path, type_tag());
        if (c.payload_version() != 1)
            detail::fail<format_error>(path.string(), ": LinearSVC payload version ", c.payload_version(), " is not supported");
        ByteReader r = c.reader();
        Config cfg;
        cfg.loss = r.read<SvmLoss>();
        cfg.C = r.read<double>();
        cfg.tol = r.read<double>();
        cfg.max_iter = r.read<std::int64_t>();
        cfg.fit_intercept = r.read<std::uint8_t>() != 0;
        cfg.intercept_scaling = r.read<double>();
        cfg.class_weight.load(r);
        cfg.random_state = r.read<std::uint64_t>();
        cfg.n_threads = r.read<std::int32_t>();
        LinearSVC model(cfg);
        model.classes_.load(r);
        model.n_features_ = r.read<std::int64_t>();
        model.coef_ = r.read_matrix<Matrix<double>>();
        model.intercept_ = r.read_matrix<Vector<double>>();
        model.n_iter_ = r.read_vector<std::int64_t>();
        r.expect_end();
        const Index k = model.classes_.size(), problems = k == 2 ? 1 : k;
        if (k < 2 || model.coef_.rows() != problems || model.coef_.cols() != model.n_features_ || model.intercept_.size() != problems)
            detail::fail<format_error>(path.string(), ": inconsistent LinearSVC model");
        return model;
    }

    static std::string type_tag() { return std::string("LinearSVC<") + (sizeof(T) == 4 ? "float" : "double") + ">"; }

private:
    /// liblinear's solve_l2r_l1l2_svc on one binary problem; w has d + 1 entries (the
    /// last one multiplies the constant `bias` feature). Returns the sweeps used.
    std::int64_t solve(const ConstMatrixRef<T>& X, const std::vector<std::int8_t>& y, const Vector<double>& sq_norms, double bias,
                       double c_pos, double c_neg, Random& rng, Vector<double>& w) const {
        constexpr double kInf = std::numeric_limits<double>::infinity();
        const Index l = X.rows(), d = X.cols();
        const bool squared = config_.loss == SvmLoss::squared_hinge;
        auto diag = [&](int yi) { return squared ? 0.5 / (yi > 0 ? c_pos : c_neg) : 0.0; };
        auto upper = [&](int yi) { return squared ? kInf : (yi > 0 ? c_pos : c_neg); };
        std::vector<double> alpha(static_cast<std::size_t>(l), 0.0), QD(static_cast<std::size_t>(l));
        std::vector<Index> index(static_cast<std::size_t>(l));
        for (Index i = 0; i < l; ++i) {
            QD[static_cast<std::size_t>(i)] = diag(y[static_cast<std::size_t>(i)]) + sq_norms[i];
            index[static_cast<std::size_t>(i)] = i;
        }
        Vector<double> x(d);
        Index active = l;
        double PGmax_old = kInf, PGmin_old = -kInf;
        std::int64_t iter = 0;
        while (iter < config_.max_iter) {
            double PGmax_new = -kInf, PGmin_new = kInf;
            for (Index s = 0; s < active; ++s) {
                const Index j = s + static_cast<Index>(rng.below(static_cast<std::uint64_t>(active - s)));
                std::swap(index[static_cast<std::size_t>(s)], index[static_cast<std::size_t>(j)]);
            }
            for (Index s = 0; s < active; ++s) {
                const Index i = index[static_cast<std::size_t>(s)];
                const int yi = y[static_cast<std::size_t>(i)];
                double& ai = alpha[static_cast<std::size_t>(i)];
                x = X.row(i).transpose().template cast<double>();
                const double G = yi * (w.head(d).dot(x) + bias * w[d]) - 1.0 + ai * diag(yi);
                const double U = upper(yi);
                double PG = 0.0;
                if (ai == 0) {
                    if (G > PGmax_old) {  // shrink: at the lower bound and pushing further down
                        --active;
                        std::swap(index[static_cast<std::size_t>(s)], index[static_cast<std::size_t>(active)]);
                        --s;
                        continue;
                    }
                    if (G < 0) PG = G;
                } else if (ai == U) {
                    if (G < PGmin_old) {
                        --active;
                        std::swap(index[static_cast<std::size_t>(s)], index[static_cast<std::size_t>(active)]);
                        --s;
                        continue;
                    }
                    if (G > 0) PG = G;
                } else {
                    PG = G;
                }
                PGmax_new = std::max(PGmax_new, PG);
                PGmin_new = std::min(PGmin_new, PG);
                if (std::abs(PG) > 1e-12) {
                    const double old = ai;
                    ai = std::min(std::max(ai - G / QD[static_cast<std::size_t>(i)], 0.0), U);
                    const double step = (ai - old) * yi;
                    w.head(d) += step * x;
                    w[d] += step * bias;
                }
            }
            ++iter;
            if (PGmax_new - PGmin_new <= config_.tol) {
                if (active == l) break;
                active = l;  // converged on the shrunk set: check everything once more
                PGmax_old = kInf;
                PGmin_old = -kInf;
                continue;
            }
            PGmax_old = PGmax_new <= 0 ? kInf : PGmax_new;
            PGmin_old = PGmin_new >= 0 ? -kInf : PGmin_new;
        }
        return iter;
    }

    Config config_;
    ClassLabels classes_;
    Index n_features_ = 0;
    Matrix<double> coef_;
    Vector<double> intercept_;
    std::vector<std::int64_t> n_iter_;
};

}  // namespace feral
