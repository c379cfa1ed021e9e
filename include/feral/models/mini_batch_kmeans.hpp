// feral/models/mini_batch_kmeans.hpp — k-means on random mini-batches (Sculley 2010),
// as scikit-learn 1.2's MiniBatchKMeans.
//
// Template parameter T: the scalar type of X (float by default).
//
// Example:
//   feral::MiniBatchKMeans<> kmeans({.n_clusters = 35, .batch_size = 1024});
//   kmeans.fit(X);
//   feral::Matrix<float> distances = kmeans.transform(X);
//
// The algorithm, step by step (scikit-learn's order of operations):
//   1. draw a validation set of init_size random rows; for each of n_init runs, seed
//      centres (k-means++ or random) on another init_size random rows and keep the
//      seeding with the lowest inertia on the validation set;
//   2. repeat up to max_iter * N / batch_size steps: draw batch_size rows (with
//      replacement), assign them to their nearest centres, and move each centre to the
//      running mean of every sample it has received: c <- (c * n_c + sum of new) / (n_c + m_c);
//   3. every 10 * n_clusters samples (or whenever a centre has received none), centres
//      with fewer than reassignment_ratio * (largest count) samples jump to random rows
//      of the batch, and their counts are set to the smallest remaining count;
//   4. stop early when the exponentially weighted average of the batch inertia has not
//      improved for max_no_improvement steps, or (tol > 0) when the squared centre
//      shift of a step falls to tol * mean feature variance.
// Finally labels_ and inertia_ are computed on all of X.
//
// Randomness comes from one Random(random_state) stream drawn in a fixed order, and
// the parallel parts (assignment, final labelling) sum in a fixed order, so results
// do not depend on the number of threads.
//
// Parameters (defaults = scikit-learn 1.2):
//   n_clusters          8
//   init                k_means_plus_plus   or random
//   max_iter            100    passes over the data (in samples drawn)
//   batch_size          1024   rows per step (capped at N)
//   tol                 0.0    early stop on centre shift (0 = off)
//   max_no_improvement  10     early stop on the smoothed inertia (0 = off)
//   init_size           0      rows used for seeding; 0 = 3 * batch_size (at least 3 * n_clusters, at most N)
//   n_init              3      seedings tried
//   reassignment_ratio  0.01
//   random_state        0
//   n_threads           0      0 = FERAL_NUM_THREADS or all cores
#pragma once

#include "feral/models/kmeans.hpp"

namespace feral {

template <class T = float>
class MiniBatchKMeans {
public:
    using scalar_type = T;

    struct Config {
        Index n_clusters = 8;
        KMeansInit init = KMeansInit::k_means_plus_plus;
        int max_iter = 100;
        Index batch_size = 1024;
        double tol = 0.0;
        int max_no_improvement = 10;
        Index init_size = 0;
        int n_init = 3;
        double reassignment_ratio = 0.01;
        std::uint64_t random_state = 0;
        int n_threads = 0;
    };

    MiniBatchKMeans() = default;
    explicit MiniBatchKMeans(Config config) : config_(std::move(config)) {}

    MiniBatchKMeans& fit(ConstMatrixRef<T> X) {
        constexpr const char* where = "MiniBatchKMeans::fit";
        check_params(where);
        check_not_empty(X, where);
        check_finite(X, where);
        const Index n = X.rows(), dim = X.cols(), k = config_.n_clusters;
        if (k > n) detail::fail(where, ": n_clusters = ", k, " but X has only ", n, " samples");
        const Index batch = std::min(config_.batch_size, n);
        Index init_size = config_.init_size > 0 ? config_.init_size : 3 * batch;
        if (init_size < k) init_size = 3 * k;
        init_size = std::min(init_size, n);
        const double tol = config_.tol > 0.0 ? config_.tol * detail::mean_feature_variance<T>(X) : 0.0;

        const RowVector<T> mean = X.template cast<double>().colwise().mean().template cast<T>();
        const Matrix<T> centered = X.rowwise() - mean;
        Random rng(config_.random_state);

        // 1. Seeding, judged on a validation sample.
        Matrix<T> validation;
        Vector<T> validation_norms;
        gather(centered, draw(rng, n, init_size), validation, validation_norms);
        Labels scratch_labels(std::max(init_size, batch));
        Matrix<T> centers;
        double best = std::numeric_limits<double>::infinity();
        for (int run = 0; run < config_.n_init; ++run) {
            Matrix<T> sample;
            Vector<T> sample_norms;
            if (init_size < n) {
                gather(centered, draw(rng, n, init_size), sample, sample_norms);
            } else {
                sample = centered;
                sample_norms.resize(n);
                detail::kernels::squared_row_norms(sample.data(), n, dim, dim, sample_norms.data());
            }
            Matrix<T> seeds = detail::initial_centers<T>(sample, sample_norms.data(), k, config_.init, rng, config_.n_threads);
            const double inertia = detail::assign_to_centers<T>(validation, validation_norms.data(), seeds,
                                                                scratch_labels.data(), nullptr, config_.n_threads);
            if (inertia < best) {
                best = inertia;
                centers = std::move(seeds);
            }
        }

        // 2-4. Mini-batch steps.
        counts_.assign(static_cast<std::size_t>(k), 0.0);
        const Index n_steps = static_cast<Index>(config_.max_iter) * n / batch;
        Matrix<T> batch_rows;
        Vector<T> batch_norms;
        Matrix<double> sums(k, dim);
        std::vector<double> batch_counts(static_cast<std::size_t>(k));
        double ewa_inertia = 0.0, ewa_min = 0.0;
        bool have_ewa = false, have_min = false;
        int no_improvement = 0;
        Index since_reassign = 0;
        Index step = 0;
        for (; step < n_steps; ++step) {
            gather(centered, draw(rng, n, batch), batch_rows, batch_norms);
            // Reassignment is decided before the step, from the counts so far.
            since_reassign += batch;
            bool reassign = false;
            if (std::find(counts_.begin(), counts_.end(), 0.0) != counts_.end() || since_reassign >= 10 * k) {
                since_reassign = 0;
                reassign = true;
            }
            const double batch_inertia = detail::assign_to_centers<T>(batch_rows, batch_norms.data(), centers,
                                                                      scratch_labels.data(), nullptr, config_.n_threads);
            // Running-mean update.
            sums.setZero();
            std::fill(batch_counts.begin(), batch_counts.end(), 0.0);
            for (Index i = 0; i < batch; ++i) {
                sums.row(scratch_labels[i]) += batch_rows.row(i).template cast<double>();
                batch_counts[static_cast<std::size_t>(scratch_labels[i])] += 1.0;
            }
            double shift = 0.0;
            for (Index c = 0; c < k; ++c) {
                const auto cc = static_cast<std::size_t>(c);
                if (batch_counts[cc] == 0.0) continue;
                const RowVector<double> updated =
                    (centers.row(c).template cast<double>() * counts_[cc] + sums.row(c)) / (counts_[cc] + batch_counts[cc]);
                counts_[cc] += batch_counts[cc];
                shift += (updated - centers.row(c).template cast<double>()).squaredNorm();
                centers.row(c) = updated.template cast<T>();
            }
            if (reassign && config_.reassignment_ratio > 0.0) reassign_small_clusters(batch_rows, centers, rng);
            if (converged(step, n, batch, batch_inertia / static_cast<double>(batch), tol, shift, ewa_inertia,
                          have_ewa, ewa_min, have_min, no_improvement)) {
                ++step;
                break;
            }
        }
        if (n_steps == 0) step = 0;
        n_steps_ = step;
        n_iter_ = static_cast<int>((step * batch + n - 1) / n);

        Vector<T> norms(n);
        detail::kernels::squared_row_norms(centered.data(), n, dim, dim, norms.data());
        labels_.resize(n);
        detail::assign_to_centers<T>(centered, norms.data(), centers, labels_.data(), nullptr, config_.n_threads);
        inertia_ = detail::direct_inertia<T>(centered, centers, labels_.data(), config_.n_threads);
        centers_ = centers.rowwise() + mean;
        return *this;
    }

    [[nodiscard]] Matrix<T> transform(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "MiniBatchKMeans");
        check_predict_input(X, centers_.cols(), "MiniBatchKMeans::transform");
        return detail::distances_to_centers<T>(X, centers_, config_.n_threads);
    }

    Matrix<T> fit_transform(ConstMatrixRef<T> X) { return fit(X).transform(X); }

    [[nodiscard]] Labels predict(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "MiniBatchKMeans");
        check_predict_input(X, centers_.cols(), "MiniBatchKMeans::predict");
        Labels labels(X.rows());
        detail::label_rows<T>(X, centers_, labels.data(), config_.n_threads);
        return labels;
    }

    /// Minus the inertia of X against the fitted centres.
    [[nodiscard]] double score(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "MiniBatchKMeans");
        check_predict_input(X, centers_.cols(), "MiniBatchKMeans::score");
        Labels labels(X.rows());
        return -detail::label_rows<T>(X, centers_, labels.data(), config_.n_threads);
    }

    [[nodiscard]] bool is_fitted() const { return centers_.rows() > 0; }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] const Matrix<T>& cluster_centers() const { check_fitted(is_fitted(), "MiniBatchKMeans"); return centers_; }
    [[nodiscard]] const Labels& labels() const { check_fitted(is_fitted(), "MiniBatchKMeans"); return labels_; }
    [[nodiscard]] double inertia() const { check_fitted(is_fitted(), "MiniBatchKMeans"); return inertia_; }
    /// Passes over the data: ceil(n_steps * batch_size / N).
    [[nodiscard]] int n_iter() const { check_fitted(is_fitted(), "MiniBatchKMeans"); return n_iter_; }
    /// Mini-batch steps run.
    [[nodiscard]] Index n_steps() const { check_fitted(is_fitted(), "MiniBatchKMeans"); return n_steps_; }
    /// Samples each centre has received (after reassignments).
    [[nodiscard]] const std::vector<double>& counts() const { check_fitted(is_fitted(), "MiniBatchKMeans"); return counts_; }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        check_fitted(is_fitted(), "MiniBatchKMeans");
        ByteWriter w;
        w.write<std::int64_t>(config_.n_clusters);
        w.write(config_.init);
        w.write<std::int32_t>(config_.max_iter);
        w.write<std::int64_t>(config_.batch_size);
        w.write(config_.tol);
        w.write<std::int32_t>(config_.max_no_improvement);
        w.write<std::int64_t>(config_.init_size);
        w.write<std::int32_t>(config_.n_init);
        w.write(config_.reassignment_ratio);
        w.write(config_.random_state);
        w.write<std::int32_t>(config_.n_threads);
        w.write_matrix(centers_);
        w.write_matrix(labels_);
        w.write(inertia_);
        w.write<std::int32_t>(n_iter_);
        w.write<std::int64_t>(n_steps_);
        w.write_vector(counts_);
        write_container(path, type_tag(), 1, w.bytes(), overwrite);
    }

    static MiniBatchKMeans load(const std::filesystem::path& path) {
        const auto c = read_container(path, type_tag());
        if (c.payload_version() != 1)
            detail::fail<format_error>(path.string(), ": MiniBatchKMeans payload version ", c.payload_version(),
                                       " is not supported");
        ByteReader r = c.reader();
        MiniBatchKMeans model;
        auto& cfg = model.config_;
        cfg.n_clusters = r.read<std::int64_t>();
        cfg.init = r.read<KMeansInit>();
        cfg.max_iter = r.read<std::int32_t>();
        cfg.batch_size = r.read<std::int64_t>();
        cfg.tol = r.read<double>();
        cfg.max_no_improvement = r.read<std::int32_t>();
        cfg.init_size = r.read<std::int64_t>();
        cfg.n_init = r.read<std::int32_t>();
        cfg.reassignment_ratio = r.read<double>();
        cfg.random_state = r.read<std::uint64_t>();
        cfg.n_threads = r.read<std::int32_t>();
        model.centers_ = r.read_matrix<Matrix<T>>();
        model.labels_ = r.read_matrix<Labels>();
        model.inertia_ = r.read<double>();
        model.n_iter_ = r.read<std::int32_t>();
        model.n_steps_ = r.read<std::int64_t>();
        model.counts_ = r.read_vector<double>();
        r.expect_end();
        if (model.centers_.rows() != cfg.n_clusters || model.centers_.rows() < 1 || !model.centers_.allFinite() ||
            static_cast<Index>(model.counts_.size()) != cfg.n_clusters)
            detail::fail<format_error>(path.string(), ": inconsistent MiniBatchKMeans payload");
        return model;
    }

    static std::string type_tag() { return std::string("MiniBatchKMeans<") + scalar_name<T>() + ">"; }

private:
    void check_params(const char* where) const {
        detail::check_kmeans_params(config_.n_clusters, config_.init, config_.n_init, config_.max_iter, config_.tol,
                                    config_.n_threads, where);
        if (config_.batch_size < 1) detail::fail(where, ": batch_size = ", config_.batch_size, " must be >= 1");
        if (config_.init_size < 0) detail::fail(where, ": init_size = ", config_.init_size, " must be >= 0 (0 = automatic)");
        if (config_.max_no_improvement < 0)
            detail::fail(where, ": max_no_improvement = ", config_.max_no_improvement, " must be >= 0 (0 = off)");
        if (!(config_.reassignment_ratio >= 0.0) || !std::isfinite(config_.reassignment_ratio))
            detail::fail(where, ": reassignment_ratio = ", config_.reassignment_ratio, " must be a finite number >= 0");
    }

    /// `count` row indices drawn uniformly with replacement.
    static std::vector<Index> draw(Random& rng, Index n, Index count) {
        std::vector<Index> rows(static_cast<std::size_t>(count));
        for (auto& r : rows) r = static_cast<Index>(rng.below(static_cast<std::uint64_t>(n)));
        return rows;
    }

    static void gather(const Matrix<T>& X, const std::vector<Index>& rows, Matrix<T>& out, Vector<T>& norms) {
        const auto m = static_cast<Index>(rows.size());
        out.resize(m, X.cols());
        for (Index i = 0; i < m; ++i) out.row(i) = X.row(rows[static_cast<std::size_t>(i)]);
        norms.resize(m);
        detail::kernels::squared_row_norms(out.data(), m, out.cols(), out.cols(), norms.data());
    }

    /// Centres that received too few samples jump to distinct random rows of the batch.
    void reassign_small_clusters(const Matrix<T>& batch_rows, Matrix<T>& centers, Random& rng) {
        const Index k = centers.rows(), batch = batch_rows.rows();
        const double largest = *std::max_element(counts_.begin(), counts_.end());
        std::vector<char> move(static_cast<std::size_t>(k), 0);
        Index n_move = 0;
        for (std::size_t c = 0; c < counts_.size(); ++c)
            if (counts_[c] < config_.reassignment_ratio * largest) {
                move[c] = 1;
                ++n_move;
            }
        // Never move more than half a batch: keep the largest clusters (stable order by count).
        if (static_cast<double>(n_move) > 0.5 * static_cast<double>(batch)) {
            std::vector<Index> order(static_cast<std::size_t>(k));
            std::iota(order.begin(), order.end(), Index{0});
            std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) {
                return counts_[static_cast<std::size_t>(a)] < counts_[static_cast<std::size_t>(b)];
            });
            for (auto it = order.begin() + batch / 2; it != order.end(); ++it) move[static_cast<std::size_t>(*it)] = 0;
            n_move = std::count(move.begin(), move.end(), char{1});
        }
        if (n_move == 0) return;
        // Distinct batch rows: the first n_move entries of a partial Fisher-Yates shuffle.
        std::vector<Index> picks(static_cast<std::size_t>(batch));
        std::iota(picks.begin(), picks.end(), Index{0});
        for (Index i = 0; i < n_move; ++i) {
            const auto j = i + static_cast<Index>(rng.below(static_cast<std::uint64_t>(batch - i)));
            std::swap(picks[static_cast<std::size_t>(i)], picks[static_cast<std::size_t>(j)]);
        }
        double smallest_kept = std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < counts_.size(); ++c)
            if (!move[c]) smallest_kept = std::min(smallest_kept, counts_[c]);
        Index next = 0;
        for (Index c = 0; c < k; ++c) {
            if (!move[static_cast<std::size_t>(c)]) continue;
            centers.row(c) = batch_rows.row(picks[static_cast<std::size_t>(next++)]);
            counts_[static_cast<std::size_t>(c)] = smallest_kept;
        }
    }

    /// scikit-learn's _mini_batch_convergence (batch_inertia already divided by the batch size).
    bool converged(Index step, Index n, Index batch, double batch_inertia, double tol, double shift, double& ewa,
                   bool& have_ewa, double& ewa_min, bool& have_min, int& no_improvement) const {
        if (step == 0) return false;  // the first step's inertia says little
        if (!have_ewa) {
            ewa = batch_inertia;
            have_ewa = true;
        } else {
            const double alpha = std::min(1.0, static_cast<double>(batch) * 2.0 / static_cast<double>(n + 1));
            ewa = ewa * (1.0 - alpha) + batch_inertia * alpha;
        }
        if (tol > 0.0 && shift <= tol) return true;
        if (!have_min || ewa < ewa_min) {
            no_improvement = 0;
            ewa_min = ewa;
            have_min = true;
        } else {
            ++no_improvement;
        }
        return config_.max_no_improvement > 0 && no_improvement >= config_.max_no_improvement;
    }

    Config config_;
    Matrix<T> centers_;
    Labels labels_;
    double inertia_ = 0.0;
    int n_iter_ = 0;
    Index n_steps_ = 0;
    std::vector<double> counts_;
};

}  // namespace feral
