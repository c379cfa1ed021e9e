// feral/models/kmeans.hpp — k-means clustering with Lloyd's algorithm and k-means++
// seeding (scikit-learn 1.2's KMeans with algorithm='lloyd').
//
// Template parameter T: the scalar type of X (float by default).
//
// Example:
//   feral::KMeans<> kmeans({.n_clusters = 35, .random_state = 1});
//   feral::Matrix<float> distances = kmeans.fit_transform(X);   // N x 35 Euclidean distances
//   feral::Labels cluster = kmeans.predict(X_new);
//   double inertia = kmeans.inertia();
//
// The objective: inertia = sum_i min_c |x_i - c|^2. Each of n_init runs
//   1. seeds the centres with greedy k-means++ (Arthur & Vassilvitskii 2007, with
//      2 + floor(ln k) candidates per step, keeping the candidate that lowers the
//      potential most, as scikit-learn), or with k distinct random samples;
//   2. alternates assignment (each sample to its nearest centre) and update (each
//      centre to the mean of its samples) until the labels stop changing, or the
//      squared centre shift sum_c |c_new - c_old|^2 falls to tol * mean feature
//      variance, or max_iter iterations ran. A centre left without samples moves to
//      the sample farthest from its own centre (scikit-learn's relocation rule);
// and the run with the lowest inertia is kept.
//
// Performance: the data are centred once (scikit-learn does the same: it makes the
// distance expansion more accurate); assignment computes |x|^2 - 2 x.c + |c|^2 as one
// matrix product per block of 256 rows, blocks in parallel; the update sums rows in
// row order with the features split between threads. Every sum is taken in a fixed
// order, so the result is identical for any number of threads.
//
// Parameters (defaults = scikit-learn 1.2):
//   n_clusters    8             k, 1 <= k <= samples
//   init          k_means_plus_plus   or random
//   n_init        10            runs with different seeds (scikit-learn 1.4 changes its default to 'auto' = 1
//                               for k-means++; pass 1 for that behaviour)
//   max_iter      300           Lloyd iterations per run
//   tol           1e-4          relative to the mean feature variance
//   random_state  0             seeds the runs (run r uses Random(random_state).fork(r))
//   n_threads     0             0 = FERAL_NUM_THREADS or all cores
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/detail/kernels/distances.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace feral {

enum class KMeansInit : std::int32_t { k_means_plus_plus, random };

namespace detail {

/// Rows per work unit for k-means assignment. Fixed, so that per-unit partial sums
/// (and so the results) do not depend on the number of threads.
inline constexpr Index kKMeansBlock = 256;

/// Threads worth starting for about `work` multiply-adds: small problems stay on the
/// calling thread, where waking a team costs more than it saves. (Results never
/// depend on the thread count, so this only changes the speed.)
inline int kmeans_threads(double work, int n_threads) { return work < 262144.0 ? 1 : n_threads; }

/// Mean over features of the per-feature variance (numpy's var, ddof = 0).
template <class T>
double mean_feature_variance(ConstMatrixRef<T> X) {
    const RowVector<double> mean = X.template cast<double>().colwise().mean();
    double total = 0.0;
    for (Index i = 0; i < X.rows(); ++i) total += (X.row(i).template cast<double>() - mean).squaredNorm();
    return total / static_cast<double>(X.rows()) / static_cast<double>(X.cols());
}

/// Assigns each row of X to its nearest centre (ties: lowest centre index).
/// Writes labels[i] and, when min_distance is not null, the squared distance.
/// Returns the inertia (sum of squared distances), summed per block in a fixed order.
template <class T>
double assign_to_centers(ConstMatrixRef<T> X, const T* x_norms, const Matrix<T>& centers, int* labels,
                         T* min_distance, int n_threads) {
    const Index n = X.rows(), k = centers.rows(), dim = X.cols();
    Vector<T> center_norms(k);
    kernels::squared_row_norms(centers.data(), k, dim, dim, center_norms.data());
    const Index n_blocks = (n + kKMeansBlock - 1) / kKMeansBlock;
    std::vector<double> block_inertia(static_cast<std::size_t>(n_blocks), 0.0);
    const int threads = kmeans_threads(static_cast<double>(n) * static_cast<double>(k) * static_cast<double>(dim), n_threads);
    parallel_for(0, n_blocks, threads, [&](std::int64_t first, std::int64_t last) {
        Matrix<T> tile(kKMeansBlock, k);
        Vector<T> best(kKMeansBlock);
        for (Index b = first; b < last; ++b) {
            const Index r0 = b * kKMeansBlock, rows = std::min(kKMeansBlock, n - r0);
            kernels::nearest_rows(X.data() + r0 * X.outerStride(), rows, X.outerStride(), centers.data(), k, dim, dim,
                                  x_norms + r0, center_norms.data(), tile.data(), labels + r0, best.data());
            double sum = 0.0;
            for (Index i = 0; i < rows; ++i) sum += static_cast<double>(best[i]);
            block_inertia[static_cast<std::size_t>(b)] = sum;
            if (min_distance != nullptr) std::copy(best.data(), best.data() + rows, min_distance + r0);
        }
    });
    double inertia = 0.0;
    for (double s : block_inertia) inertia += s;
    return inertia;
}

/// Per-cluster sums of the rows of X (k x dim, in double) and counts. Rows are added
/// in row order; threads split the features, so the sums are thread-count independent.
template <class T>
void sum_by_cluster(ConstMatrixRef<T> X, const int* labels, Matrix<double>& sums, std::vector<double>& counts,
                    int n_threads) {
    const Index n = X.rows(), dim = X.cols();
    sums.setZero();
    std::fill(counts.begin(), counts.end(), 0.0);
    for (Index i = 0; i < n; ++i) counts[static_cast<std::size_t>(labels[i])] += 1.0;
    // Work units of at least 64 features keep each row segment a few cache lines long.
    const int threads = kmeans_threads(static_cast<double>(n) * static_cast<double>(dim), n_threads);
    const Index n_units = std::max<Index>(1, std::min<Index>(resolve_threads(threads), dim / 64));
    parallel_for(0, n_units, threads, [&](std::int64_t first, std::int64_t last) {
        for (Index u = first; u < last; ++u) {
            const Index c0 = dim * u / n_units, c1 = dim * (u + 1) / n_units;
            for (Index i = 0; i < n; ++i)
                sums.row(labels[i]).segment(c0, c1 - c0) += X.row(i).segment(c0, c1 - c0).template cast<double>();
        }
    });
}

/// Greedy k-means++ seeding (scikit-learn's _kmeans_plusplus): returns k rows of X.
template <class T>
Matrix<T> kmeans_plus_plus(ConstMatrixRef<T> X, const T* x_norms, Index k, Random& rng, int n_threads) {
    const Index n = X.rows(), dim = X.cols();
    const Index n_trials = 2 + static_cast<Index>(std::log(static_cast<double>(k)));
    Matrix<T> centers(k, dim);
    const Index n_blocks = (n + kKMeansBlock - 1) / kKMeansBlock;

    // Squared distances of every row to `candidates` (rows of X), capped by `closest`,
    // into out (candidates x n); returns the per-candidate potentials (sums).
    auto capped_distances = [&](const std::vector<Index>& candidates, const std::vector<T>* closest, Matrix<T>& out) {
        const Index m = static_cast<Index>(candidates.size());
        Matrix<T> cand(m, dim);
        Vector<T> cand_norms(m);
        for (Index c = 0; c < m; ++c) {
            cand.row(c) = X.row(candidates[static_cast<std::size_t>(c)]);
            cand_norms[c] = x_norms[candidates[static_cast<std::size_t>(c)]];
        }
        out.resize(m, n);
        Matrix<double> partial(n_blocks, m);
        const int threads = kmeans_threads(static_cast<double>(n) * static_cast<double>(m) * static_cast<double>(dim), n_threads);
        parallel_for(0, n_blocks, threads, [&](std::int64_t first, std::int64_t last) {
            Matrix<T> tile(kKMeansBlock, m);
            for (Index b = first; b < last; ++b) {
                const Index r0 = b * kKMeansBlock, rows = std::min(kKMeansBlock, n - r0);
                kernels::squared_distances(X.data() + r0 * X.outerStride(), rows, X.outerStride(), cand.data(), m, dim,
                                           dim, x_norms + r0, cand_norms.data(), tile.data(), m);
                for (Index c = 0; c < m; ++c) {
                    double sum = 0.0;
                    for (Index i = 0; i < rows; ++i) {
                        T d = tile(i, c);
                        if (closest != nullptr) d = std::min(d, (*closest)[static_cast<std::size_t>(r0 + i)]);
                        out(c, r0 + i) = d;
                        sum += static_cast<double>(d);
                    }
                    partial(b, c) = sum;
                }
            }
        });
        std::vector<double> potential(static_cast<std::size_t>(m), 0.0);
        for (Index b = 0; b < n_blocks; ++b)
            for (Index c = 0; c < m; ++c) potential[static_cast<std::size_t>(c)] += partial(b, c);
        return potential;
    };

    const auto first = static_cast<Index>(rng.below(static_cast<std::uint64_t>(n)));
    centers.row(0) = X.row(first);
    Matrix<T> distances;
    double potential = capped_distances({first}, nullptr, distances)[0];
    std::vector<T> closest(distances.data(), distances.data() + n);
    std::vector<double> cumulative(static_cast<std::size_t>(n));
    std::vector<Index> candidates(static_cast<std::size_t>(n_trials));
    for (Index c = 1; c < k; ++c) {
        // Sample candidates with probability proportional to the squared distance to
        // the nearest centre chosen so far (inverse CDF on the running sum).
        double running = 0.0;
        for (Index i = 0; i < n; ++i) cumulative[static_cast<std::size_t>(i)] = running += static_cast<double>(closest[static_cast<std::size_t>(i)]);
        for (auto& candidate : candidates) {
            const double target = rng.uniform() * running;
            const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), target);
            candidate = std::min<Index>(static_cast<Index>(it - cumulative.begin()), n - 1);
        }
        const auto potentials = capped_distances(candidates, &closest, distances);
        const auto best = static_cast<Index>(std::min_element(potentials.begin(), potentials.end()) - potentials.begin());
        potential = potentials[static_cast<std::size_t>(best)];
        std::copy(distances.row(best).data(), distances.row(best).data() + n, closest.begin());
        centers.row(c) = X.row(candidates[static_cast<std::size_t>(best)]);
    }
    (void)potential;
    return centers;
}

/// Initial centres for one run.
template <class T>
Matrix<T> initial_centers(ConstMatrixRef<T> X, const T* x_norms, Index k, KMeansInit init, Random& rng, int n_threads) {
    if (init == KMeansInit::k_means_plus_plus) return kmeans_plus_plus<T>(X, x_norms, k, rng, n_threads);
    const auto order = rng.permutation<Index>(X.rows());
    Matrix<T> centers(k, X.cols());
    for (Index c = 0; c < k; ++c) centers.row(c) = X.row(order[static_cast<std::size_t>(c)]);
    return centers;
}

/// Checks the parameters KMeans and MiniBatchKMeans share.
inline void check_kmeans_params(Index n_clusters, KMeansInit init, int n_init, int max_iter, double tol, int n_threads,
                                const char* where) {
    if (n_clusters < 1) fail(where, ": n_clusters = ", n_clusters, " must be >= 1");
    if (init != KMeansInit::k_means_plus_plus && init != KMeansInit::random)
        fail(where, ": unknown init ", static_cast<int>(init));
    if (n_init < 1) fail(where, ": n_init = ", n_init, " must be >= 1");
    if (max_iter < 1) fail(where, ": max_iter = ", max_iter, " must be >= 1");
    if (!(tol >= 0.0) || !std::isfinite(tol)) fail(where, ": tol = ", tol, " must be a finite number >= 0");
    if (n_threads < 0) fail(where, ": n_threads = ", n_threads, " must be >= 0");
}

/// Euclidean distances of X's rows to the centres (KMeans::transform).
template <class T>
Matrix<T> distances_to_centers(ConstMatrixRef<T> X, const Matrix<T>& centers, int n_threads) {
    const Index n = X.rows(), k = centers.rows(), dim = X.cols();
    Vector<T> center_norms(k);
    kernels::squared_row_norms(centers.data(), k, dim, dim, center_norms.data());
    Matrix<T> out(n, k);
    const Index n_blocks = (n + kKMeansBlock - 1) / kKMeansBlock;
    const int threads = kmeans_threads(static_cast<double>(n) * static_cast<double>(k) * static_cast<double>(dim), n_threads);
    parallel_for(0, n_blocks, threads, [&](std::int64_t first, std::int64_t last) {
        Vector<T> norms(kKMeansBlock);
        for (Index b = first; b < last; ++b) {
            const Index r0 = b * kKMeansBlock, rows = std::min(kKMeansBlock, n - r0);
            const T* block = X.data() + r0 * X.outerStride();
            kernels::squared_row_norms(block, rows, dim, X.outerStride(), norms.data());
            kernels::squared_distances(block, rows, X.outerStride(), centers.data(), k, dim, dim, norms.data(),
                                       center_norms.data(), out.data() + r0 * k, k);
        }
    });
    return out.array().sqrt().matrix();
}

/// sum_i |x_i - c_{labels[i]}|^2 computed directly (no expansion), per block in a fixed order.
template <class T>
double direct_inertia(ConstMatrixRef<T> X, const Matrix<T>& centers, const int* labels, int n_threads) {
    const Index n = X.rows(), dim = X.cols();
    const Index n_blocks = (n + kKMeansBlock - 1) / kKMeansBlock;
    std::vector<double> block_inertia(static_cast<std::size_t>(n_blocks), 0.0);
    const int threads = kmeans_threads(static_cast<double>(n) * static_cast<double>(dim), n_threads);
    parallel_for(0, n_blocks, threads, [&](std::int64_t first, std::int64_t last) {
        for (Index b = first; b < last; ++b) {
            double sum = 0.0;
            for (Index i = b * kKMeansBlock; i < std::min(n, (b + 1) * kKMeansBlock); ++i)
                sum += static_cast<double>(kernels::squared_distance(X.data() + i * X.outerStride(), centers.row(labels[i]).data(), dim));
            block_inertia[static_cast<std::size_t>(b)] = sum;
        }
    });
    double inertia = 0.0;
    for (double s : block_inertia) inertia += s;
    return inertia;
}

/// Labels (written to `labels`) and inertia of X against fitted centres (predict / score).
template <class T>
double label_rows(ConstMatrixRef<T> X, const Matrix<T>& centers, int* labels, int n_threads) {
    Vector<T> norms(X.rows());
    kernels::squared_row_norms(X.data(), X.rows(), X.cols(), X.outerStride(), norms.data());
    return assign_to_centers<T>(X, norms.data(), centers, labels, nullptr, n_threads);
}

}  // namespace detail

template <class T = float>
class KMeans {
public:
    using scalar_type = T;

    struct Config {
        Index n_clusters = 8;
        KMeansInit init = KMeansInit::k_means_plus_plus;
        int n_init = 10;
        int max_iter = 300;
        double tol = 1e-4;
        std::uint64_t random_state = 0;
        int n_threads = 0;
    };

    KMeans() = default;
    explicit KMeans(Config config) : config_(std::move(config)) {}

    /// Clusters X. Requires n_clusters <= X.rows().
    KMeans& fit(ConstMatrixRef<T> X) {
        constexpr const char* where = "KMeans::fit";
        detail::check_kmeans_params(config_.n_clusters, config_.init, config_.n_init, config_.max_iter, config_.tol,
                                    config_.n_threads, where);
        check_not_empty(X, where);
        check_finite(X, where);
        if (config_.n_clusters > X.rows())
            detail::fail(where, ": n_clusters = ", config_.n_clusters, " but X has only ", X.rows(), " samples");
        const Index n = X.rows(), k = config_.n_clusters;
        const double tol = config_.tol * detail::mean_feature_variance<T>(X);

        const RowVector<T> mean = X.template cast<double>().colwise().mean().template cast<T>();
        const Matrix<T> centered = X.rowwise() - mean;
        Vector<T> norms(n);
        detail::kernels::squared_row_norms(centered.data(), n, centered.cols(), centered.cols(), norms.data());

        const Random seeds(config_.random_state);
        double best_inertia = std::numeric_limits<double>::infinity();
        for (int run = 0; run < config_.n_init; ++run) {
            Random rng = seeds.fork(static_cast<std::uint64_t>(run));
            Matrix<T> centers = detail::initial_centers<T>(centered, norms.data(), k, config_.init, rng, config_.n_threads);
            Labels labels(n);
            int n_iter = 0;
            const double inertia = lloyd(centered, norms, centers, labels, tol, n_iter);
            if (inertia < best_inertia) {
                best_inertia = inertia;
                centers_ = std::move(centers);
                labels_ = std::move(labels);
                n_iter_ = n_iter;
            }
        }
        inertia_ = best_inertia;
        centers_.rowwise() += mean;
        return *this;
    }

    /// Euclidean distances of each row to each centre (N x n_clusters).
    [[nodiscard]] Matrix<T> transform(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "KMeans");
        check_predict_input(X, centers_.cols(), "KMeans::transform");
        return detail::distances_to_centers<T>(X, centers_, config_.n_threads);
    }

    Matrix<T> fit_transform(ConstMatrixRef<T> X) { return fit(X).transform(X); }

    /// Index of the nearest centre of each row.
    [[nodiscard]] Labels predict(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "KMeans");
        check_predict_input(X, centers_.cols(), "KMeans::predict");
        Labels labels(X.rows());
        detail::label_rows<T>(X, centers_, labels.data(), config_.n_threads);
        return labels;
    }

    /// Minus the inertia of X against the fitted centres (scikit-learn's score).
    [[nodiscard]] double score(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "KMeans");
        check_predict_input(X, centers_.cols(), "KMeans::score");
        Labels labels(X.rows());
        return -detail::label_rows<T>(X, centers_, labels.data(), config_.n_threads);
    }

    [[nodiscard]] bool is_fitted() const { return centers_.rows() > 0; }
    [[nodiscard]] const Config& config() const { return config_; }
    /// n_clusters x features.
    [[nodiscard]] const Matrix<T>& cluster_centers() const { check_fitted(is_fitted(), "KMeans"); return centers_; }
    /// Cluster of each training row (of the best run).
    [[nodiscard]] const Labels& labels() const { check_fitted(is_fitted(), "KMeans"); return labels_; }
    /// Sum of squared distances of the training rows to their centres.
    [[nodiscard]] double inertia() const { check_fitted(is_fitted(), "KMeans"); return inertia_; }
    /// Lloyd iterations of the best run.
    [[nodiscard]] int n_iter() const { check_fitted(is_fitted(), "KMeans"); return n_iter_; }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        check_fitted(is_fitted(), "KMeans");
        ByteWriter w;
        w.write<std::int64_t>(config_.n_clusters);
        w.write(config_.init);
        w.write<std::int32_t>(config_.n_init);
        w.write<std::int32_t>(config_.max_iter);
        w.write(config_.tol);
        w.write(config_.random_state);
        w.write<std::int32_t>(config_.n_threads);
        w.write_matrix(centers_);
        w.write_matrix(labels_);
        w.write(inertia_);
        w.write<std::int32_t>(n_iter_);
        write_container(path, type_tag(), 1, w.bytes(), overwrite);
    }

    static KMeans load(const std::filesystem::path& path) {
        const auto c = read_container(path, type_tag());
        if (c.payload_version() != 1)
            detail::fail<format_error>(path.string(), ": KMeans payload version ", c.payload_version(), " is not supported");
        ByteReader r = c.reader();
        KMeans model;
        model.config_.n_clusters = r.read<std::int64_t>();
        model.config_.init = r.read<KMeansInit>();
        model.config_.n_init = r.read<std::int32_t>();
        model.config_.max_iter = r.read<std::int32_t>();
        model.config_.tol = r.read<double>();
        model.config_.random_state = r.read<std::uint64_t>();
        model.config_.n_threads = r.read<std::int32_t>();
        model.centers_ = r.read_matrix<Matrix<T>>();
        model.labels_ = r.read_matrix<Labels>();
        model.inertia_ = r.read<double>();
        model.n_iter_ = r.read<std::int32_t>();
        r.expect_end();
        if (model.centers_.rows() != model.config_.n_clusters || model.centers_.rows() < 1 || !model.centers_.allFinite())
            detail::fail<format_error>(path.string(), ": inconsistent KMeans payload");
        return model;
    }

    static std::string type_tag() { return std::string("KMeans<") + scalar_name<T>() + ">"; }

private:
    /// One Lloyd run from `centers` (updated in place). Returns the inertia.
    double lloyd(const Matrix<T>& X, const Vector<T>& norms, Matrix<T>& centers, Labels& labels, double tol, int& n_iter) const {
        const Index n = X.rows(), k = centers.rows(), dim = X.cols();
        Labels previous = Labels::Constant(n, -1);
        Vector<T> distance(n);
        Matrix<double> sums(k, dim);
        std::vector<double> counts(static_cast<std::size_t>(k));
        bool converged_exactly = false;
        int it = 0;
        for (; it < config_.max_iter; ++it) {
            detail::assign_to_centers<T>(X, norms.data(), centers, labels.data(), distance.data(), config_.n_threads);
            detail::sum_by_cluster<T>(X, labels.data(), sums, counts, config_.n_threads);
            relocate_empty_clusters(X, labels, distance, sums, counts);
            double shift = 0.0;
            for (Index c = 0; c < k; ++c) {
                if (counts[static_cast<std::size_t>(c)] == 0.0) continue;  // emptied by a relocation: stays put
                const RowVector<T> updated = (sums.row(c) / counts[static_cast<std::size_t>(c)]).template cast<T>();
                shift += (updated - centers.row(c)).template cast<double>().squaredNorm();
                centers.row(c) = updated;
            }
            if (labels == previous) {
                converged_exactly = true;
                break;
            }
            if (shift <= tol) break;
            previous = labels;
        }
        n_iter = std::min(it + 1, config_.max_iter);
        // The labels were computed for the centres before the last update: refresh them
        // unless nothing changed (then the update left the centres where they were).
        if (!converged_exactly) detail::assign_to_centers<T>(X, norms.data(), centers, labels.data(), distance.data(), config_.n_threads);
        return detail::direct_inertia<T>(X, centers, labels.data(), config_.n_threads);
    }

    /// scikit-learn's rule: each empty cluster takes the sample farthest from its own
    /// centre (farthest first; equal distances: lower row first), leaving its old cluster.
    static void relocate_empty_clusters(const Matrix<T>& X, const Labels& labels, const Vector<T>& distance,
                                        Matrix<double>& sums, std::vector<double>& counts) {
        std::vector<Index> empty;
        for (std::size_t c = 0; c < counts.size(); ++c)
            if (counts[c] == 0.0) empty.push_back(static_cast<Index>(c));
        if (empty.empty()) return;
        std::vector<Index> order(static_cast<std::size_t>(X.rows()));
        std::iota(order.begin(), order.end(), Index{0});
        const auto m = static_cast<std::ptrdiff_t>(std::min<std::size_t>(empty.size(), order.size()));
        std::partial_sort(order.begin(), order.begin() + m, order.end(),
                          [&](Index a, Index b) { return distance[a] > distance[b] || (distance[a] == distance[b] && a < b); });
        for (std::ptrdiff_t e = 0; e < m; ++e) {
            const Index row = order[static_cast<std::size_t>(e)];
            const auto old_cluster = static_cast<std::size_t>(labels[row]);
            const auto new_cluster = static_cast<std::size_t>(empty[static_cast<std::size_t>(e)]);
            sums.row(static_cast<Index>(old_cluster)) -= X.row(row).template cast<double>();
            counts[old_cluster] -= 1.0;
            sums.row(static_cast<Index>(new_cluster)) = X.row(row).template cast<double>();
            counts[new_cluster] = 1.0;
        }
    }

    Config config_;
    Matrix<T> centers_;
    Labels labels_;
    double inertia_ = 0.0;
    int n_iter_ = 0;
};

}  // namespace feral
