// feral/models/svc.hpp — kernel support vector classifier (scikit-learn's SVC, i.e.
// libsvm's C-SVC).
//
// Template parameter T: the scalar type of X (float by default; kernels are computed
// in float32 either way).
//
// Example:
//   feral::SVC<> svm({.kernel = feral::Kernel::rbf, .C = 1.0});      // gamma 'scale'
//   svm.fit(X_train, y_train);
//   feral::Labels predicted = svm.predict(X_test);
//   feral::Matrix<double> scores = svm.decision_function(X_test);   // n x n_classes ("ovr")
//
// Multi-class is one-vs-one as libsvm: one binary problem per class pair (i < j), class
// i labelled +1; the pairs are solved in parallel (parallel_for_dynamic), each by
// libsvm's SMO (detail/smo_solver.hpp: WSS3 working sets, shrinking, LRU kernel cache of
// cache_size MB per problem being solved, its buffer handed on to the next problem).
// predict takes libsvm's vote: pair (i, j) votes i when its decision value is > 0, else j;
// most votes wins, the smallest class on ties.
// decision_function returns scikit-learn's "ovr" shape built from the votes plus
// confidences in (-1/3, 1/3); decision_function_ovo the raw pair values.
//
// Prediction computes, per test row, the kernel against all support vectors (one
// matrix-vector product with the support vectors, whose squared norms are kept), then
// every pair's decision value with a second product against the (n_pairs x n_SV)
// coefficient matrix; blocks of rows run in parallel. Matrix-vector rather than
// matrix-matrix products keep the results independent of the thread count (Eigen's
// matrix products split their work over OpenMP threads, which changes the rounding).
//
// Parameters (defaults = scikit-learn 1.2):
//   kernel        rbf        linear, rbf, poly
//   C             1.0        > 0; box bound, multiplied by the class weight
//   gamma         scale      scale = 1 / (n_features X.var()), auto = 1 / n_features, or value(g > 0)
//   degree        3          poly degree (>= 0)
//   coef0         0.0        poly offset
//   tol           1e-3       stopping tolerance on the maximal KKT violation (> 0)
//   shrinking     true
//   cache_size    200        kernel cache in MB per sub-problem (> 0)
//   class_weight  none       none, balanced, custom
//   max_iter      -1         per sub-problem; -1 = libsvm's max(10^7, 100 l)
//   n_threads     0
//
// predict_proba (libsvm's Platt scaling with internal cross-validation) is not provided.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/detail/class_weight.hpp"
#include "feral/detail/smo_solver.hpp"
#include "feral/models/class_labels.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace feral {

/// The RBF/poly kernel coefficient: scikit-learn's 'scale', 'auto' or a value.
struct Gamma {
    enum class Kind : std::int32_t { scale, automatic, value };
    Kind kind = Kind::scale;
    double v = 0.0;
    static Gamma scale() { return {Kind::scale, 0.0}; }
    static Gamma automatic() { return {Kind::automatic, 0.0}; }
    static Gamma value(double g) { return {Kind::value, g}; }
};

template <class T = float>
class SVC {
public:
    struct Config {
        Kernel kernel = Kernel::rbf;
        double C = 1.0;
        Gamma gamma = Gamma::scale();
        int degree = 3;
        double coef0 = 0.0;
        double tol = 1e-3;
        bool shrinking = true;
        double cache_size = 200.0;
        ClassWeight class_weight = ClassWeight::none();
        std::int64_t max_iter = -1;
        int n_threads = 0;
    };

    SVC() = default;
    explicit SVC(Config config) : config_(std::move(config)) {}

    SVC& fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
        constexpr const char* where = "SVC::fit";
        if (!(config_.C > 0) || !std::isfinite(config_.C)) detail::fail(where, ": C = ", config_.C, " must be a positive number");
        if (!(config_.tol > 0)) detail::fail(where, ": tol = ", config_.tol, " must be > 0");
        if (!(config_.cache_size > 0)) detail::fail(where, ": cache_size = ", config_.cache_size, " MB must be > 0");
        if (config_.kernel == Kernel::poly && config_.degree < 0) detail::fail(where, ": degree = ", config_.degree, " must be >= 0");
        if (config_.gamma.kind == Gamma::Kind::value && !(config_.gamma.v > 0 && std::isfinite(config_.gamma.v)))
            detail::fail(where, ": gamma = ", config_.gamma.v, " must be a positive number");
        if (config_.max_iter == 0 || config_.max_iter < -1) detail::fail(where, ": max_iter = ", config_.max_iter, " must be >= 1 or -1");
        check_fit_input(X, y, where);
        ClassLabels classes;
        classes.fit(y, where);
        const Labels dense = classes.encode(y, where);
        const auto weights = config_.class_weight.per_class(classes, dense, where);
        const Index k = classes.size(), n = X.rows();

        const Matrix<float> Xf = X.template cast<float>();
        detail::KernelParams kp{config_.kernel, 1.0, config_.degree, config_.coef0};
        kp.gamma = resolve_gamma(Xf);

        // Rows of each class, in order (libsvm groups the samples by class).
        std::vector<std::vector<Index>> members(static_cast<std::size_t>(k));
        for (Index i = 0; i < n; ++i) members[static_cast<std::size_t>(dense[i])].push_back(i);
        struct Pair { Index a, b; };
        std::vector<Pair> pairs;
        for (Index a = 0; a < k; ++a)
            for (Index b = a + 1; b < k; ++b) pairs.push_back({a, b});
        std::vector<detail::SmoResult> solutions(pairs.size());
        // Largest problems first, for load balance; each result depends only on its pair.
        std::vector<Index> order(pairs.size());
        for (std::size_t p = 0; p < pairs.size(); ++p) order[p] = static_cast<Index>(p);
        auto pair_size = [&](Index p) {
            return members[static_cast<std::size_t>(pairs[static_cast<std::size_t>(p)].a)].size() +
                   members[static_cast<std::size_t>(pairs[static_cast<std::size_t>(p)].b)].size();
        };
        std::stable_sort(order.begin(), order.end(), [&](Index p, Index q) { return pair_size(p) > pair_size(q); });
        // Kernel caches, handed from one pair to the next (at most one per thread; see
        // KernelRows). Which buffer a pair gets does not matter: its rows are computed afresh.
        std::mutex caches_mutex;
        std::vector<Vector<float>> caches;
        parallel_for_dynamic(0, static_cast<std::int64_t>(pairs.size()), config_.n_threads, [&](std::int64_t o) {
            const Index p = order[static_cast<std::size_t>(o)];
            const auto& rows_a = members[static_cast<std::size_t>(pairs[static_cast<std::size_t>(p)].a)];
            const auto& rows_b = members[static_cast<std::size_t>(pairs[static_cast<std::size_t>(p)].b)];
            const Index l = static_cast<Index>(rows_a.size() + rows_b.size());
            Matrix<float> sub(l, Xf.cols());
            std::vector<std::int8_t> labels(static_cast<std::size_t>(l));
            std::vector<double> C(static_cast<std::size_t>(l));
            Index r = 0;
            for (const auto* rows : {&rows_a, &rows_b}) {
                const bool positive = rows == &rows_a;
                const double c = config_.C * weights[static_cast<std::size_t>(positive ? pairs[static_cast<std::size_t>(p)].a
                                                                                      : pairs[static_cast<std::size_t>(p)].b)];
                for (Index row : *rows) {
                    sub.row(r) = Xf.row(row);
                    labels[static_cast<std::size_t>(r)] = positive ? 1 : -1;
                    C[static_cast<std::size_t>(r)] = c;
                    ++r;
                }
            }
            Vector<float> cache;
            {
                const std::lock_guard lock(caches_mutex);
                if (!caches.empty()) {
                    cache = std::move(caches.back());
                    caches.pop_back();
                }
            }
            detail::KernelRows Q(std::move(sub), kp, config_.cache_size * 1024.0 * 1024.0, cache);
            solutions[static_cast<std::size_t>(p)] = detail::solve_smo(Q, labels, C, config_.tol, config_.shrinking, config_.max_iter);
            const std::lock_guard lock(caches_mutex);
            caches.push_back(std::move(cache));
        });

        // Support vectors: rows with a nonzero coefficient in any of their class's pairs.
        std::vector<char> nonzero(static_cast<std::size_t>(n), 0);
        for (std::size_t p = 0; p < pairs.size(); ++p) {
            const auto& alpha = solutions[p].alpha;
            std::size_t r = 0;
            for (Index side : {pairs[p].a, pairs[p].b})
                for (Index row : members[static_cast<std::size_t>(side)])
                    if (alpha[r++] > 0) nonzero[static_cast<std::size_t>(row)] = 1;
        }
        std::vector<Index> position(static_cast<std::size_t>(n), -1);
        support_.clear();
        n_support_.assign(static_cast<std::size_t>(k), 0);
        for (Index c = 0; c < k; ++c)
            for (Index row : members[static_cast<std::size_t>(c)])
                if (nonzero[static_cast<std::size_t>(row)]) {
                    position[static_cast<std::size_t>(row)] = static_cast<Index>(support_.size());
                    support_.push_back(row);
                    ++n_support_[static_cast<std::size_t>(c)];
                }
        const Index n_sv = static_cast<Index>(support_.size());
        support_vectors_.resize(n_sv, X.cols());
        for (Index s = 0; s < n_sv; ++s) support_vectors_.row(s) = X.row(support_[static_cast<std::size_t>(s)]);
        // libsvm layout: for pair (a, b), a's vectors in row b - 1, b's vectors in row a.
        coef_ = Matrix<double>::Zero(k - 1, n_sv);
        rho_ = Vector<double>(static_cast<Index>(pairs.size()));
        iterations_.assign(pairs.size(), 0);
        for (std::size_t p = 0; p < pairs.size(); ++p) {
            const auto& sol = solutions[p];
            rho_[static_cast<Index>(p)] = sol.rho;
            iterations_[p] = sol.iterations;
            std::size_t r = 0;
            for (Index side : {pairs[p].a, pairs[p].b}) {
                const Index coef_row = side == pairs[p].a ? pairs[p].b - 1 : pairs[p].a;
                const double sign = side == pairs[p].a ? 1.0 : -1.0;
                for (Index row : members[static_cast<std::size_t>(side)]) {
                    const double a = sol.alpha[r++];
                    if (nonzero[static_cast<std::size_t>(row)]) coef_(coef_row, position[static_cast<std::size_t>(row)]) = sign * a;
                }
            }
        }
        gamma_ = kp.gamma;
        classes_ = std::move(classes);
        n_features_ = X.cols();
        build_pair_coefficients();
        return *this;
    }

    /// libsvm's one-vs-one vote (see the header comment).
    [[nodiscard]] Labels predict(ConstMatrixRef<T> X) const {
        const Matrix<double> dec = decision_function_ovo(X);
        const Index k = classes_.size();
        Labels out(X.rows());
        std::vector<int> votes(static_cast<std::size_t>(k));
        for (Index s = 0; s < X.rows(); ++s) {
            std::fill(votes.begin(), votes.end(), 0);
            Index p = 0;
            for (Index a = 0; a < k; ++a)
                for (Index b = a + 1; b < k; ++b, ++p) ++votes[static_cast<std::size_t>(dec(s, p) > 0 ? a : b)];
            out[s] = classes_.decode(std::max_element(votes.begin(), votes.end()) - votes.begin());
        }
        return out;
    }

    /// Raw one-vs-one values, one column per pair (0,1), (0,2), ..., (k-2,k-1):
    /// sum_sv coef K(sv, x) - rho, positive meaning the pair's first class.
    [[nodiscard]] Matrix<double> decision_function_ovo(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "SVC");
        check_predict_input(X, n_features_, "SVC::decision_function");
        const Index n_pairs = rho_.size(), n_sv = support_vectors_.rows();
        Matrix<double> out(X.rows(), n_pairs);
        const Matrix<float> sv = support_vectors_.template cast<float>();
        const Vector<float> sv_norms = sv.rowwise().squaredNorm();
        const detail::KernelParams kp{config_.kernel, gamma_, config_.degree, config_.coef0};
        constexpr Index block = 64;
        parallel_for_dynamic(0, (X.rows() + block - 1) / block, config_.n_threads, [&](std::int64_t blk) {
            const Index b = blk * block, e = std::min(X.rows(), b + block);
            Vector<float> x(X.cols()), k_row(n_sv), dec(n_pairs);
            for (Index i = b; i < e; ++i) {
                x = X.row(i).transpose().template cast<float>();
                detail::kernel_row(sv, sv_norms.data(), x.data(), x.squaredNorm(), kp, k_row.data());
                dec.noalias() = pair_coef_t_ * k_row;
                out.row(i) = dec.template cast<double>().transpose() - rho_.transpose();
            }
        });
        return out;
    }

    /// scikit-learn's decision_function: n x 1 for two classes (positive = classes()[1]),
    /// else n x n_classes "ovr" scores = votes + sum of confidences / (3 (|sum| + 1)).
    [[nodiscard]] Matrix<double> decision_function(ConstMatrixRef<T> X) const {
        const Matrix<double> ovo = decision_function_ovo(X);
        const Index k = classes_.size();
        if (k == 2) return -ovo;
        Matrix<double> votes = Matrix<double>::Zero(X.rows(), k), conf = Matrix<double>::Zero(X.rows(), k);
        Index p = 0;
        for (Index a = 0; a < k; ++a)
            for (Index b = a + 1; b < k; ++b, ++p)
                for (Index s = 0; s < X.rows(); ++s) {
                    const double d = ovo(s, p);
                    conf(s, a) += d;
                    conf(s, b) -= d;
                    votes(s, d < 0 ? b : a) += 1.0;
                }
        return votes.array() + conf.array() / (3.0 * (conf.array().abs() + 1.0));
    }

    [[nodiscard]] double score(ConstMatrixRef<T> X, ConstLabelsRef y) const {
        return accuracy_against(predict(X), y, classes_, "SVC::score");
    }

    [[nodiscard]] const std::vector<int>& classes() const { return classes_.classes(); }
    [[nodiscard]] bool is_fitted() const { return !classes_.empty(); }
    [[nodiscard]] const Config& config() const { return config_; }
    /// Training-row indices of the support vectors, grouped by class (scikit-learn's support_).
    [[nodiscard]] const std::vector<Index>& support() const { return fitted().support_; }
    [[nodiscard]] const std::vector<Index>& n_support() const { return fitted().n_support_; }
    [[nodiscard]] const Matrix<T>& support_vectors() const { return fitted().support_vectors_; }
    /// scikit-learn's dual_coef_ ((n_classes - 1) x n_SV; signs flipped for two classes, as scikit-learn does).
    [[nodiscard]] Matrix<double> dual_coef() const { return classes_.size() == 2 ? Matrix<double>(-fitted().coef_) : fitted().coef_; }
    /// scikit-learn's intercept_ (one per pair; -rho, or +rho for two classes).
    [[nodiscard]] Vector<double> intercept() const { return classes_.size() == 2 ? Vector<double>(fitted().rho_) : Vector<double>(-fitted().rho_); }
    /// The gamma actually used (after 'scale' / 'auto').
    [[nodiscard]] double gamma() const { return fitted().gamma_; }
    /// SMO iterations per pair.
    [[nodiscard]] const std::vector<std::int64_t>& n_iter() const { return fitted().iterations_; }
    [[nodiscard]] Index n_features() const { return n_features_; }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        fitted();
        ByteWriter w;
        w.write(config_.kernel);
        w.write(config_.C);
        w.write(config_.gamma.kind);
        w.write(config_.gamma.v);
        w.write<std::int32_t>(config_.degree);
        w.write(config_.coef0);
        w.write(config_.tol);
        w.write<std::uint8_t>(config_.shrinking);
        w.write(config_.cache_size);
        config_.class_weight.save(w);
        w.write(config_.max_iter);
        w.write<std::int32_t>(config_.n_threads);
        classes_.save(w);
        w.write<std::int64_t>(n_features_);
        w.write(gamma_);
        std::vector<std::int64_t> support(support_.begin(), support_.end()), n_support(n_support_.begin(), n_support_.end());
        w.write_vector(support);
        w.write_vector(n_support);
        w.write_vector(iterations_);
        w.write_matrix(support_vectors_);
        w.write_matrix(coef_);
        w.write_matrix(rho_);
        write_container(path, type_tag(), 1, w.bytes(), overwrite);
    }

    static SVC load(const std::filesystem::path& path) {
        const Container c = read_container(path, type_tag());
        if (c.payload_version() != 1) detail::fail<format_error>(path.string(), ": SVC payload version ", c.payload_version(), " is not supported");
        ByteReader r = c.reader();
        Config cfg;
        cfg.kernel = r.read<Kernel>();
        cfg.C = r.read<double>();
        cfg.gamma.kind = r.read<Gamma::Kind>();
        cfg.gamma.v = r.read<double>();
        cfg.degree = r.read<std::int32_t>();
        cfg.coef0 = r.read<double>();
        cfg.tol = r.read<double>();
        cfg.shrinking = r.read<std::uint8_t>() != 0;
        cfg.cache_size = r.read<double>();
        cfg.class_weight.load(r);
        cfg.max_iter = r.read<std::int64_t>();
        cfg.n_threads = r.read<std::int32_t>();
        if (static_cast<int>(cfg.kernel) < 0 || static_cast<int>(cfg.kernel) > 2) detail::fail<format_error>(path.string(), ": corrupt kernel");
        SVC model(cfg);
        model.classes_.load(r);
        model.n_features_ = r.read<std::int64_t>();
        model.gamma_ = r.read<double>();
        const auto support = r.read_vector<std::int64_t>();
        const auto n_support = r.read_vector<std::int64_t>();
        model.support_.assign(support.begin(), support.end());
        model.n_support_.assign(n_support.begin(), n_support.end());
        model.iterations_ = r.read_vector<std::int64_t>();
        model.support_vectors_ = r.read_matrix<Matrix<T>>();
        model.coef_ = r.read_matrix<Matrix<double>>();
        model.rho_ = r.read_matrix<Vector<double>>();
        r.expect_end();
        const Index k = model.classes_.size(), n_sv = model.support_vectors_.rows();
        if (k < 2 || static_cast<Index>(model.n_support_.size()) != k || static_cast<Index>(model.support_.size()) != n_sv ||
            model.support_vectors_.cols() != model.n_features_ || model.coef_.rows() != k - 1 || model.coef_.cols() != n_sv ||
            model.rho_.size() != k * (k - 1) / 2)
            detail::fail<format_error>(path.string(), ": inconsistent SVC model");
        model.build_pair_coefficients();
        return model;
    }

    static std::string type_tag() { return std::string("SVC<") + (sizeof(T) == 4 ? "float" : "double") + ">"; }

private:
    const SVC& fitted() const {
        check_fitted(is_fitted(), "SVC");
        return *this;
    }

    double resolve_gamma(const Matrix<float>& X) const {
        switch (config_.gamma.kind) {
        case Gamma::Kind::value: return config_.gamma.v;
        case Gamma::Kind::automatic: return 1.0 / static_cast<double>(X.cols());
        case Gamma::Kind::scale: {
            double sum = 0.0, sq = 0.0;
            for (Index i = 0; i < X.rows(); ++i) {
                const auto row = X.row(i).template cast<double>();
                sum += row.sum();
                sq += row.squaredNorm();
            }
            const double count = static_cast<double>(X.size());
            const double var = sq / count - (sum / count) * (sum / count);
            return var > 0 ? 1.0 / (static_cast<double>(X.cols()) * var) : 1.0;
        }
        }
        detail::fail("SVC::fit: unknown gamma kind");
    }

    /// Dense (n_pairs x n_SV) coefficients: row p holds pair p's coefficients on its
    /// two classes' support vectors and zeros elsewhere, so one product gives every pair.
    void build_pair_coefficients() {
        const Index k = classes_.size(), n_sv = support_vectors_.rows();
        pair_coef_t_ = Matrix<float>::Zero(k * (k - 1) / 2, n_sv);
        std::vector<Index> start(static_cast<std::size_t>(k + 1), 0);
        for (Index c = 0; c < k; ++c) start[static_cast<std::size_t>(c + 1)] = start[static_cast<std::size_t>(c)] + n_support_[static_cast<std::size_t>(c)];
        Index p = 0;
        for (Index a = 0; a < k; ++a)
            for (Index b = a + 1; b < k; ++b, ++p) {
                for (Index s = start[static_cast<std::size_t>(a)]; s < start[static_cast<std::size_t>(a + 1)]; ++s)
                    pair_coef_t_(p, s) = static_cast<float>(coef_(b - 1, s));
                for (Index s = start[static_cast<std::size_t>(b)]; s < start[static_cast<std::size_t>(b + 1)]; ++s)
                    pair_coef_t_(p, s) = static_cast<float>(coef_(a, s));
            }
    }

    Config config_;
    ClassLabels classes_;
    Index n_features_ = 0;
    double gamma_ = 0.0;
    std::vector<Index> support_, n_support_;
    std::vector<std::int64_t> iterations_;
    Matrix<T> support_vectors_;
    Matrix<double> coef_;  ///< libsvm's sv_coef: (k - 1) x n_SV
    Vector<double> rho_;   ///< one per pair
    Matrix<float> pair_coef_t_;  ///< n_pairs x n_SV
};

}  // namespace feral
