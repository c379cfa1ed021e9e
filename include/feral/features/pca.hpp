// feral/features/pca.hpp — principal component analysis.
//
// PCA finds the orthonormal directions (components) along which the centred training
// data vary most. With Xc = X - mean and its thin SVD Xc = U S V^T:
//   components()               = the first k rows of V^T           (k x features)
//   singular_values()          = S[0..k)
//   explained_variance()       = S^2 / (n_samples - 1)
//   explained_variance_ratio() = explained_variance / total variance of X
//   transform(X)               = (X - mean) V_k           (divided by sqrt(explained_variance) if whiten)
//   inverse_transform(Z)       = Z V_k^T + mean           (Z scaled back first if whiten)
// Signs follow scikit-learn's svd_flip: in each column of U, the entry of largest
// magnitude is positive. Results equal scikit-learn 1.2's PCA (components up to
// rounding, same signs) for the same n_components, whiten and solver.
//
// Solvers (Config::svd_solver):
//   full        exact: eigen-decomposition of the Gram matrix of the centred data —
//               Xc^T Xc (features x features) when n_samples >= n_features, otherwise
//               Xc Xc^T — whose eigenvalues are S^2 and eigenvectors V (or U). For
//               28,709 faces x 2,304 pixels this needs a 2,304 x 2,304 matrix, computed
//               by one parallel matrix product, instead of an SVD of the whole data.
//   randomized  Halko, Martinsson & Tropp (2011), "Finding structure with randomness",
//               as scikit-learn's randomized_svd: a Gaussian test matrix with
//               k + n_oversamples columns, iterated_power power iterations with QR
//               re-orthonormalisation (the subspace iteration of their Algorithm 4.4),
//               then the exact problem projected onto the subspace found. It runs on the
//               same Gram matrix, so each power iteration costs a features^2 product
//               instead of two passes over the data.
//   automatic   scikit-learn 1.2's rule: full if max(n_samples, n_features) <= 500;
//               randomized if 1 <= n_components < 0.8 * min(n_samples, n_features);
//               otherwise full.
//
// Example:
//   feral::PCA<> pca({.n_components = 300, .whiten = true});
//   feral::Matrix<float> Z = pca.fit_transform(X_train);   // n x 300
//   double kept = pca.explained_variance_ratio().sum();
//
// Precision: the Gram matrix squares the condition number, so a component whose
// variance is below about epsilon(T) times the largest is not resolved (it is noise
// for these purposes); scikit-learn's full SVD resolves it. Use PCA<double> when tiny
// components matter.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/huge_pages.hpp"
#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/detail/column_moments.hpp"
#include "feral/features/standard_scaler.hpp"  // detail::without_eigen_threads

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace feral {

enum class SvdSolver { automatic, full, randomized };

inline const char* to_string(SvdSolver s) {
    switch (s) {
        case SvdSolver::automatic: return "automatic";
        case SvdSolver::full: return "full";
        case SvdSolver::randomized: return "randomized";
    }
    return "unknown";
}

template <class T = float>
class PCA {
    static_assert(std::is_floating_point_v<T>, "PCA<T>: T must be float or double");

public:
    struct Config {
        /// Components kept; 0 = all, min(n_samples, n_features) (scikit-learn's None).
        Index n_components = 0;
        /// Scale the projections to unit variance (scikit-learn: False).
        bool whiten = false;
        /// How to find the components (scikit-learn: 'auto'); see the header comment.
        SvdSolver svd_solver = SvdSolver::automatic;
        /// Power iterations of the randomized solver; -1 = scikit-learn's 'auto':
        /// 7 if n_components < 0.1 * min(n_samples, n_features), else 4.
        int iterated_power = -1;
        /// Extra columns of the randomized solver's test matrix (scikit-learn: 10).
        Index n_oversamples = 10;
        /// Seed of the randomized solver's test matrix.
        std::uint64_t random_state = 0;
        /// 0 = FERAL_NUM_THREADS or all cores.
        int n_threads = 0;
    };

    PCA() = default;
    explicit PCA(Config config) : config_(config) {}

    /// Learns mean, components and variances. Throws invalid_argument for empty or
    /// non-finite X, fewer than 2 samples, n_components < 0 or > min(n_samples,
    /// n_features), or a randomized solver asked for all components; refitting forgets
    /// the previous fit.
    PCA& fit(ConstMatrixRef<T> X);
    /// Projections onto the components: n x n_components().
    [[nodiscard]] Matrix<T> transform(ConstMatrixRef<T> X) const;
    Matrix<T> fit_transform(ConstMatrixRef<T> X) { return fit(X).transform(X); }
    /// Back to feature space: n x n_features_in().
    [[nodiscard]] Matrix<T> inverse_transform(ConstMatrixRef<T> Z) const;

    [[nodiscard]] bool is_fitted() const { return components_.rows() > 0; }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] Index n_components() const { return components_.rows(); }
    [[nodiscard]] Index n_features_in() const { return mean_.size(); }
    [[nodiscard]] Index n_samples() const { return n_samples_; }
    /// The solver fit used (automatic resolved to full or randomized).
    [[nodiscard]] SvdSolver solver_used() const { return solver_used_; }

    [[nodiscard]] const RowVector<T>& mean() const { check_fitted(is_fitted(), "PCA"); return mean_; }
    /// n_components x n_features, orthonormal rows, by decreasing variance.
    [[nodiscard]] const Matrix<T>& components() const { check_fitted(is_fitted(), "PCA"); return components_; }
    [[nodiscard]] const Vector<T>& explained_variance() const { check_fitted(is_fitted(), "PCA"); return explained_variance_; }
    [[nodiscard]] const Vector<T>& explained_variance_ratio() const { check_fitted(is_fitted(), "PCA"); return explained_variance_ratio_; }
    [[nodiscard]] const Vector<T>& singular_values() const { check_fitted(is_fitted(), "PCA"); return singular_values_; }
    /// Mean variance of the discarded directions (probabilistic PCA's noise; 0 if none discarded).
    [[nodiscard]] double noise_variance() const { check_fitted(is_fitted(), "PCA"); return noise_variance_; }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const;
    static PCA load(const std::filesystem::path& path);
    static std::string type_tag() { return std::string("PCA<") + scalar_name<T>() + ">"; }

private:
    using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    static constexpr Index kRowBlock = 256;
    static constexpr Index kTile = 256;
    static constexpr std::uint32_t kPayloadVersion = 1;

    ColMatrix gram(const Matrix<T>& centred) const;
    ColMatrix symmetric_product(const ColMatrix& G, const ColMatrix& Y) const;
    void top_eigenpairs(const ColMatrix& G, Index k, bool randomized, Index n, Index d, Vector<double>& values,
                        ColMatrix& vectors) const;

    Config config_;
    Index n_samples_ = 0;
    SvdSolver solver_used_ = SvdSolver::automatic;
    RowVector<T> mean_;
    Matrix<T> components_;
    Vector<T> explained_variance_, explained_variance_ratio_, singular_values_;
    double noise_variance_ = 0;
};

// ---------------------------------------------------------------------------------

/// Gram matrix of the centred data, min(n, d) square: Xc^T Xc or Xc Xc^T. Computed as
/// fixed tiles of the upper triangle in parallel, so the result does not depend on the
/// thread count; the lower triangle is mirrored.
template <class T>
typename PCA<T>::ColMatrix PCA<T>::gram(const Matrix<T>& centred) const {
    const bool by_features = centred.rows() >= centred.cols();
    const Index m = by_features ? centred.cols() : centred.rows();
    ColMatrix G(m, m);
    const Index tiles = (m + kTile - 1) / kTile;
    std::vector<std::pair<Index, Index>> pairs;
    for (Index a = 0; a < tiles; ++a)
        for (Index b = a; b < tiles; ++b) pairs.emplace_back(a, b);
    // parallel_for (not parallel_for_dynamic): inside its OpenMP team Eigen's own
    // OpenMP-parallel products stay single-threaded instead of nesting.
    parallel_for_each_index(0, static_cast<std::int64_t>(pairs.size()), config_.n_threads, [&](std::int64_t p) {
        const auto [a, b] = pairs[static_cast<std::size_t>(p)];
        const Index a0 = a * kTile, aw = std::min(kTile, m - a0);
        const Index b0 = b * kTile, bw = std::min(kTile, m - b0);
        if (by_features)
            G.block(a0, b0, aw, bw).noalias() = centred.middleCols(a0, aw).transpose() * centred.middleCols(b0, bw);
        else
            G.block(a0, b0, aw, bw).noalias() = centred.middleRows(a0, aw) * centred.middleRows(b0, bw).transpose();
    });
    G.template triangularView<Eigen::StrictlyLower>() = G.transpose();
    return G;
}

/// G * Y over fixed column blocks of Y in parallel.
template <class T>
typename PCA<T>::ColMatrix PCA<T>::symmetric_product(const ColMatrix& G, const ColMatrix& Y) const {
    ColMatrix out(G.rows(), Y.cols());
    constexpr Index block = 32;
    parallel_for_each_index(0, (Y.cols() + block - 1) / block, config_.n_threads, [&](std::int64_t b) {
        const Index c0 = b * block, w = std::min(block, Y.cols() - c0);
        out.middleCols(c0, w).noalias() = G * Y.middleCols(c0, w);
    });
    return out;
}

/// The k largest eigenvalues (descending, clamped at 0) and their eigenvectors of the
/// symmetric positive semi-definite G, exactly or by randomized subspace iteration.
template <class T>
void PCA<T>::top_eigenpairs(const ColMatrix& G, Index k, bool randomized, Index n, Index d, Vector<double>& values,
                            ColMatrix& vectors) const {
    const Index m = G.rows();
    if (!randomized) {
        Eigen::SelfAdjointEigenSolver<ColMatrix> solver(G);
        if (solver.info() != Eigen::Success)
            detail::fail<numerical_error>("PCA::fit: the eigen-decomposition did not converge");
        values.resize(k);
        vectors.resize(m, k);
        for (Index c = 0; c < k; ++c) {  // Eigen sorts ascending
            values[c] = std::max(0.0, static_cast<double>(solver.eigenvalues()[m - 1 - c]));
            vectors.col(c) = solver.eigenvectors().col(m - 1 - c);
        }
        return;
    }
    const Index width = std::min(m, k + config_.n_oversamples);
    const int iterations = config_.iterated_power >= 0 ? config_.iterated_power
                           : (static_cast<double>(k) < 0.1 * static_cast<double>(std::min(n, d)) ? 7 : 4);
    Random random(config_.random_state);
    ColMatrix Q(m, width);
    for (Index c = 0; c < width; ++c)
        for (Index i = 0; i < m; ++i) Q(i, c) = static_cast<T>(random.normal());
    const ColMatrix identity = ColMatrix::Identity(m, width);
    auto orthonormalise = [&](const ColMatrix& Y) {
        Eigen::HouseholderQR<ColMatrix> qr(Y);
        return ColMatrix(qr.householderQ() * identity);
    };
    // Subspace iteration: Q spans G^(q+1) Omega, re-orthonormalised after each product.
    Q = orthonormalise(symmetric_product(G, Q));
    for (int it = 0; it < iterations; ++it) Q = orthonormalise(symmetric_product(G, Q));
    // Rayleigh–Ritz: the exact problem restricted to span(Q).
    const ColMatrix GQ = symmetric_product(G, Q);
    ColMatrix B = Q.transpose() * GQ;
    B = (0.5 * (B + B.transpose())).eval();
    Eigen::SelfAdjointEigenSolver<ColMatrix> solver(B);
    if (solver.info() != Eigen::Success)
        detail::fail<numerical_error>("PCA::fit: the eigen-decomposition did not converge");
    values.resize(k);
    vectors.resize(m, k);
    for (Index c = 0; c < k; ++c) {
        values[c] = std::max(0.0, static_cast<double>(solver.eigenvalues()[width - 1 - c]));
        vectors.col(c) = Q * solver.eigenvectors().col(width - 1 - c);
    }
}

template <class T>
PCA<T>& PCA<T>::fit(ConstMatrixRef<T> X) {
    constexpr const char* where = "PCA::fit";
    check_not_empty(X, where);
    check_finite(X, where);
    const Index n = X.rows(), d = X.cols(), m = std::min(n, d);
    if (n < 2) detail::fail(where, ": PCA needs at least 2 samples, got ", n);
    if (config_.n_components < 0 || config_.n_components > m)
        detail::fail(where, ": n_components=", config_.n_components, " must be between 0 (all) and min(n_samples, n_features)=",
                     m, " (X is ", n, " x ", d, ")");
    if (config_.n_oversamples < 0) detail::fail(where, ": n_oversamples must be >= 0, got ", config_.n_oversamples);
    if (config_.iterated_power < -1)
        detail::fail(where, ": iterated_power must be >= 0 or -1 (automatic), got ", config_.iterated_power);
    const Index k = config_.n_components == 0 ? m : config_.n_components;
    SvdSolver solver = config_.svd_solver;
    if (solver == SvdSolver::automatic)
        solver = std::max(n, d) <= 500 ? SvdSolver::full
                 : (config_.n_components >= 1 && static_cast<double>(k) < 0.8 * static_cast<double>(m))
                     ? SvdSolver::randomized
                     : SvdSolver::full;
    if (solver == SvdSolver::randomized && config_.n_components == 0)
        detail::fail(where, ": the randomized solver needs n_components between 1 and ", m, ", got 0 (all)");

    // Mean and total variance per feature (double accumulators, see column_moments).
    const detail::ColumnMoments moments = detail::column_moments<T>(X, nullptr, 1, config_.n_threads);
    const RowVector<double> mean = moments.mean.row(0);
    const RowVector<double> sum_squares = moments.sum_squares.row(0);
    const double total_variance = sum_squares.sum() / static_cast<double>(n - 1);
    const RowVector<T> mean_t = mean.cast<T>();

    Matrix<T> centred(n, d);
    advise_huge_pages(centred);  // written whole, once: see core/huge_pages.hpp
    parallel_for(0, (n + kRowBlock - 1) / kRowBlock, config_.n_threads, [&](std::int64_t b0, std::int64_t b1) {
        const Index r0 = b0 * kRowBlock, rows = std::min<Index>(b1 * kRowBlock, n) - r0;
        centred.middleRows(r0, rows) = X.middleRows(r0, rows).rowwise() - mean_t;
    });

    Vector<double> eigenvalues;
    ColMatrix eigenvectors;
    Vector<double> singular;
    Matrix<T> components(k, d);
    std::vector<T> sign(static_cast<std::size_t>(k), T(1));
    detail::without_eigen_threads([&] {
        top_eigenpairs(gram(centred), k, solver == SvdSolver::randomized, n, d, eigenvalues, eigenvectors);
        singular = eigenvalues.cwiseSqrt();

        // Right singular vectors V (d x k) and, for the sign rule, the location of the
        // largest |U(i, c)| of each left singular vector.
        if (n >= d) {
            components = eigenvectors.transpose();
            // U = Xc V / S: only the entry of largest magnitude per column is needed.
            // Fixed row blocks; the first maximum in row order wins, as numpy.argmax.
            const Index blocks = (n + kRowBlock - 1) / kRowBlock;
            Matrix<T> best_value(blocks, k);
            parallel_for(0, blocks, config_.n_threads, [&](std::int64_t b0, std::int64_t b1) {
                Matrix<T> projected(kRowBlock, k);
                for (std::int64_t b = b0; b < b1; ++b) {
                    const Index r0 = b * kRowBlock, rows = std::min(kRowBlock, n - r0);
                    projected.topRows(rows).noalias() = centred.middleRows(r0, rows) * eigenvectors;
                    for (Index c = 0; c < k; ++c) {
                        T value = projected(0, c);
                        for (Index i = 1; i < rows; ++i)
                            if (std::abs(projected(i, c)) > std::abs(value)) value = projected(i, c);
                        best_value(b, c) = value;
                    }
                }
            });
            for (Index c = 0; c < k; ++c) {
                T value = best_value(0, c);
                for (Index b = 1; b < blocks; ++b)
                    if (std::abs(best_value(b, c)) > std::abs(value)) value = best_value(b, c);
                sign[static_cast<std::size_t>(c)] = value < T(0) ? T(-1) : T(1);
            }
        } else {
            // U is the eigenvectors; V^T = U^T Xc / S.
            for (Index c = 0; c < k; ++c) {
                Index at = 0;
                eigenvectors.col(c).cwiseAbs().maxCoeff(&at);
                sign[static_cast<std::size_t>(c)] = eigenvectors(at, c) < T(0) ? T(-1) : T(1);
            }
            components.noalias() = eigenvectors.transpose() * centred;
            for (Index c = 0; c < k; ++c)
                if (singular[c] > 0) components.row(c) /= static_cast<T>(singular[c]);
        }
    });
    for (Index c = 0; c < k; ++c) components.row(c) *= sign[static_cast<std::size_t>(c)];

    n_samples_ = n;
    solver_used_ = solver;
    mean_ = mean_t;
    components_ = std::move(components);
    const Vector<double> variance = eigenvalues / static_cast<double>(n - 1);
    explained_variance_ = variance.cast<T>();
    explained_variance_ratio_ = (total_variance > 0 ? Vector<double>(variance / total_variance)
                                                    : Vector<double>(Vector<double>::Zero(k)))
                                    .template cast<T>();
    singular_values_ = singular.cast<T>();
    noise_variance_ = k < m ? std::max(0.0, total_variance - variance.sum()) / static_cast<double>(m - k) : 0.0;
    return *this;
}

template <class T>
Matrix<T> PCA<T>::transform(ConstMatrixRef<T> X) const {
    constexpr const char* where = "PCA::transform";
    check_fitted(is_fitted(), "PCA");
    check_not_empty(X, where);
    if (X.cols() != n_features_in())
        detail::fail(where, ": X has ", X.cols(), " features, but the model was fitted with ", n_features_in());
    check_finite(X, where);
    const Index n = X.rows();
    Matrix<T> out(n, n_components());
    advise_huge_pages(out);
    RowVector<T> inverse_scale = RowVector<T>::Ones(n_components());
    if (config_.whiten)
        for (Index c = 0; c < n_components(); ++c)
            inverse_scale[c] = explained_variance_[c] > 0 ? T(1) / std::sqrt(explained_variance_[c]) : T(0);
    detail::without_eigen_threads([&] {
        parallel_for(0, (n + kRowBlock - 1) / kRowBlock, config_.n_threads, [&](std::int64_t b0, std::int64_t b1) {
            Matrix<T> centred(kRowBlock, n_features_in());
            for (std::int64_t b = b0; b < b1; ++b) {
                const Index r0 = b * kRowBlock, rows = std::min(kRowBlock, n - r0);
                centred.topRows(rows) = X.middleRows(r0, rows).rowwise() - mean_;
                auto o = out.middleRows(r0, rows);
                o.noalias() = centred.topRows(rows) * components_.transpose();
                if (config_.whiten) o.array().rowwise() *= inverse_scale.array();
            }
        });
    });
    return out;
}

template <class T>
Matrix<T> PCA<T>::inverse_transform(ConstMatrixRef<T> Z) const {
    constexpr const char* where = "PCA::inverse_transform";
    check_fitted(is_fitted(), "PCA");
    check_not_empty(Z, where);
    if (Z.cols() != n_components())
        detail::fail(where, ": Z has ", Z.cols(), " columns, but the model has ", n_components(), " components");
    check_finite(Z, where);
    Matrix<T> basis = components_;
    if (config_.whiten)
        for (Index c = 0; c < n_components(); ++c) basis.row(c) *= std::sqrt(explained_variance_[c]);
    const Index n = Z.rows();
    Matrix<T> out(n, n_features_in());
    advise_huge_pages(out);
    detail::without_eigen_threads([&] {
        parallel_for(0, (n + kRowBlock - 1) / kRowBlock, config_.n_threads, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const Index r0 = b * kRowBlock, rows = std::min(kRowBlock, n - r0);
                auto o = out.middleRows(r0, rows);
                o.noalias() = Z.middleRows(r0, rows) * basis;
                o.rowwise() += mean_;
            }
        });
    });
    return out;
}

template <class T>
void PCA<T>::save(const std::filesystem::path& path, Overwrite overwrite) const {
    check_fitted(is_fitted(), "PCA");
    ByteWriter w;
    w.write<std::int64_t>(config_.n_components);
    w.write(config_.whiten);
    w.write<std::int32_t>(static_cast<std::int32_t>(config_.svd_solver));
    w.write(config_.iterated_power);
    w.write<std::int64_t>(config_.n_oversamples);
    w.write(config_.random_state);
    w.write(config_.n_threads);
    w.write<std::int64_t>(n_samples_);
    w.write<std::int32_t>(static_cast<std::int32_t>(solver_used_));
    w.write_matrix(mean_);
    w.write_matrix(components_);
    w.write_matrix(explained_variance_);
    w.write_matrix(explained_variance_ratio_);
    w.write_matrix(singular_values_);
    w.write(noise_variance_);
    write_container(path, type_tag(), kPayloadVersion, w.bytes(), overwrite);
}

template <class T>
PCA<T> PCA<T>::load(const std::filesystem::path& path) {
    const Container c = read_container(path, type_tag());
    if (c.payload_version() != kPayloadVersion)
        detail::fail<format_error>("'", path.string(), "': PCA payload version ", c.payload_version(),
                                   ", this feral reads version ", kPayloadVersion);
    ByteReader r = c.reader();
    PCA p;
    auto solver_from = [&](std::int32_t v) {
        if (v < 0 || v > 2) detail::fail<format_error>("'", path.string(), "': unknown PCA solver ", v);
        return static_cast<SvdSolver>(v);
    };
    p.config_.n_components = static_cast<Index>(r.read<std::int64_t>());
    r.read(p.config_.whiten);
    p.config_.svd_solver = solver_from(r.read<std::int32_t>());
    r.read(p.config_.iterated_power);
    p.config_.n_oversamples = static_cast<Index>(r.read<std::int64_t>());
    r.read(p.config_.random_state);
    r.read(p.config_.n_threads);
    p.n_samples_ = static_cast<Index>(r.read<std::int64_t>());
    p.solver_used_ = solver_from(r.read<std::int32_t>());
    p.mean_ = r.read_matrix<RowVector<T>>();
    p.components_ = r.read_matrix<Matrix<T>>();
    p.explained_variance_ = r.read_matrix<Vector<T>>();
    p.explained_variance_ratio_ = r.read_matrix<Vector<T>>();
    p.singular_values_ = r.read_matrix<Vector<T>>();
    r.read(p.noise_variance_);
    r.expect_end();
    const Index k = p.components_.rows();
    if (k == 0 || p.components_.cols() != p.mean_.size() || p.explained_variance_.size() != k ||
        p.explained_variance_ratio_.size() != k || p.singular_values_.size() != k)
        detail::fail<format_error>("'", path.string(), "': inconsistent PCA state (", k, " components)");
    return p;
}

}  // namespace feral
