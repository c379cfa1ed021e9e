// feral/models/random_forest.hpp — a random forest of CART trees (scikit-learn's
// RandomForestClassifier).
//
// Template parameter T: the scalar type of X (float by default).
//
// Example:
//   feral::RandomForestClassifier<> forest({.n_estimators = 100, .max_depth = 5, .random_state = 1});
//   forest.fit(X_train, y_train);
//   double accuracy = forest.score(X_test, y_test);
//   feral::Matrix<float> p = forest.predict_proba(X_test);   // mean of the trees' leaf fractions
//
// How it works: the features are binned once per fit into uint8 codes (exact for
// features with <= 256 distinct values such as pixels; quantile bins otherwise, see
// detail/tree_builder.hpp), then the trees are grown in parallel, handed out one at a
// time to the threads (parallel_for_dynamic). Tree i draws its bootstrap sample and
// its feature orders from Random(random_state).fork(i), so the forest is identical
// whatever the thread count. A bootstrap sample is represented as sample weights
// (how often each row was drawn) times the class weight, as scikit-learn does.
//
// Parameters (defaults = scikit-learn 1.2):
//   n_estimators       100        number of trees (>= 1)
//   criterion          gini       gini or entropy
//   max_depth          0          0 = unlimited, else >= 1
//   min_samples_split  2          (>= 2)
//   min_samples_leaf   1          (>= 1)
//   max_features       sqrt       all, sqrt, log2, count(n), fraction(f)
//   bootstrap          true       draw each tree's rows with replacement
//   max_samples        0          rows drawn per tree: 0 = n, (0, 1] = fraction of n, > 1 = count
//   class_weight       none       none, balanced, balanced_subsample, custom
//   random_state       0
//   n_threads          0          0 = FERAL_NUM_THREADS or all cores
//
// Performance: one tree costs about n_rows * depth * max_features histogram updates
// plus a 256-bin scan per large node and feature; memory is n_rows * n_features bytes
// of codes shared by all trees plus the trees themselves.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/detail/class_weight.hpp"
#include "feral/detail/tree_builder.hpp"
#include "feral/models/class_labels.hpp"
#include "feral/models/decision_tree.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <numeric>
#include <algorithm>
#include <string>
#include <vector>

namespace feral {

template <class T = float>
class RandomForestClassifier {
public:
    struct Config {
        Index n_estimators = 100;
        Criterion criterion = Criterion::gini;
        Index max_depth = 0;
        Index min_samples_split = 2;
        Index min_samples_leaf = 1;
        MaxFeatures max_features = MaxFeatures::sqrt();
        bool bootstrap = true;
        double max_samples = 0.0;
        ClassWeight class_weight = ClassWeight::none();
        std::uint64_t random_state = 0;
        int n_threads = 0;
    };

    RandomForestClassifier() = default;
    explicit RandomForestClassifier(Config config) : config_(std::move(config)) {}

    RandomForestClassifier& fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
        constexpr const char* where = "RandomForestClassifier::fit";
        detail::check_tree_params(config_.criterion, config_.max_depth, config_.min_samples_split, config_.min_samples_leaf, where);
        if (config_.n_estimators < 1) detail::fail(where, ": n_estimators = ", config_.n_estimators, " must be >= 1");
        check_fit_input(X, y, where);
        const Index n = X.rows();
        const Index max_features = config_.max_features.resolve(X.cols(), where);
        const Index n_draw = bootstrap_size(n, where);
        if (!config_.bootstrap && config_.class_weight.mode == ClassWeight::Mode::balanced_subsample)
            detail::fail(where, ": class_weight balanced_subsample needs bootstrap = true");
        ClassLabels classes;
        classes.fit(y, where);
        const Labels dense = classes.encode(y, where);
        const Index k = classes.size();
        const auto class_weights = config_.class_weight.per_class(classes, dense, where);
        const bool subsample_balanced = config_.class_weight.mode == ClassWeight::Mode::balanced_subsample;

        const detail::BinnedFeatures binned = detail::bin_features<T>(X, config_.n_threads);
        const detail::TreeParams params{config_.criterion, config_.max_depth, config_.min_samples_split, config_.min_samples_leaf, max_features};
        std::vector<detail::Tree> trees(static_cast<std::size_t>(config_.n_estimators));
        const Random master(config_.random_state);
        const int threads = static_cast<int>(std::min<Index>(resolve_threads(config_.n_threads), config_.n_estimators));
        // One builder (and workspace) per worker slot; a slot is claimed per tree.
        std::vector<std::unique_ptr<detail::TreeBuilder>> builders(static_cast<std::size_t>(threads));
        std::vector<char> busy(static_cast<std::size_t>(threads), 0);
        std::mutex slots;
        parallel_for_dynamic(0, config_.n_estimators, threads, [&](std::int64_t t) {
            std::size_t slot = 0;
            {
                std::lock_guard lock(slots);
                while (busy[slot]) ++slot;
                busy[slot] = 1;
                if (!builders[slot]) builders[slot] = std::make_unique<detail::TreeBuilder>(binned, dense.data(), k, params);
            }
            Random rng = master.fork(static_cast<std::uint64_t>(t));
            std::vector<double> weights(static_cast<std::size_t>(n), 0.0);
            std::vector<std::int32_t> samples;
            if (config_.bootstrap) {
                for (Index draw = 0; draw < n_draw; ++draw) weights[rng.below(static_cast<std::uint64_t>(n))] += 1.0;
                std::vector<double> per_class = class_weights;
                if (subsample_balanced) {  // "balanced" on the drawn rows, over the classes present
                    std::vector<double> counts(static_cast<std::size_t>(k), 0.0);
                    for (Index i = 0; i < n; ++i) counts[static_cast<std::size_t>(dense[i])] += weights[static_cast<std::size_t>(i)];
                    const auto present = static_cast<double>(std::count_if(counts.begin(), counts.end(), [](double c) { return c > 0; }));
                    for (Index c = 0; c < k; ++c)
                        per_class[static_cast<std::size_t>(c)] =
                            counts[static_cast<std::size_t>(c)] > 0 ? static_cast<double>(n_draw) / (present * counts[static_cast<std::size_t>(c)]) : 0.0;
                }
                for (Index i = 0; i < n; ++i) {
                    double& w = weights[static_cast<std::size_t>(i)];
                    if (w == 0.0) continue;
                    w *= per_class[static_cast<std::size_t>(dense[i])];
                    samples.push_back(static_cast<std::int32_t>(i));
                }
            } else {
                samples.resize(static_cast<std::size_t>(n));
                for (Index i = 0; i < n; ++i) {
                    weights[static_cast<std::size_t>(i)] = class_weights[static_cast<std::size_t>(dense[i])];
                    samples[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i);
                }
            }
            trees[static_cast<std::size_t>(t)] = builders[slot]->build(std::move(samples), weights, rng);
            std::lock_guard lock(slots);
            busy[slot] = 0;
        });
        trees_ = std::move(trees);
        classes_ = std::move(classes);
        n_features_ = X.cols();
        return *this;
    }

    /// The class with the largest mean probability (smallest label on ties).
    [[nodiscard]] Labels predict(ConstMatrixRef<T> X) const { return classes_.decode_argmax(predict_proba(X)); }

    /// Mean over trees of the class fractions in the leaf each sample reaches.
    [[nodiscard]] Matrix<T> predict_proba(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "RandomForestClassifier");
        check_predict_input(X, n_features_, "RandomForestClassifier::predict_proba");
        const Index k = classes_.size();
        Matrix<double> sum = Matrix<double>::Zero(X.rows(), k);
        // Blocks of rows, trees inside: a block's rows stay in cache while every tree visits them.
        constexpr Index block = 64;
        parallel_for_dynamic(0, (X.rows() + block - 1) / block, config_.n_threads, [&](std::int64_t blk) {
            const Index b = blk * block, e = std::min(X.rows(), b + block);
            for (const auto& tree : trees_)
                for (Index i = b; i < e; ++i) tree.add_proba(X.row(i).data(), sum.row(i).data());
        });
        return (sum / static_cast<double>(trees_.size())).cast<T>();
    }

    [[nodiscard]] double score(ConstMatrixRef<T> X, ConstLabelsRef y) const {
        return accuracy_against(predict(X), y, classes_, "RandomForestClassifier::score");
    }

    /// Mean over trees (single-leaf trees excluded) of each tree's normalised impurity
    /// decrease, normalised again to sum 1 — scikit-learn's feature_importances_.
    [[nodiscard]] Vector<double> feature_importances() const {
        check_fitted(is_fitted(), "RandomForestClassifier");
        Vector<double> total = Vector<double>::Zero(n_features_);
        Index used = 0;
        for (const auto& tree : trees_) {
            if (tree.nodes.size() <= 1) continue;
            const auto imp = tree.feature_importances(n_features_);
            total += Eigen::Map<const Vector<double>>(imp.data(), n_features_);
            ++used;
        }
        if (used == 0) return total;
        total /= static_cast<double>(used);
        const double s = std::accumulate(total.begin(), total.end(), 0.0);  // (Eigen's AVX-512 sum() trips a GCC 12 false warning)
        if (s > 0) total /= s;
        return total;
    }

    [[nodiscard]] const std::vector<int>& classes() const { return classes_.classes(); }
    [[nodiscard]] bool is_fitted() const { return !trees_.empty(); }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] Index n_features() const { return n_features_; }
    /// The fitted trees (scikit-learn's estimators_[i].tree_).
    [[nodiscard]] const std::vector<detail::Tree>& trees() const {
        check_fitted(is_fitted(), "RandomForestClassifier");
        return trees_;
    }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        check_fitted(is_fitted(), "RandomForestClassifier");
        ByteWriter w;
        w.write<std::int64_t>(config_.n_estimators);
        w.write(config_.criterion);
        w.write<std::int64_t>(config_.max_depth);
        w.write<std::int64_t>(config_.min_samples_split);
        w.write<std::int64_t>(config_.min_samples_leaf);
        w.write(config_.max_features.kind);
        w.write(config_.max_features.value);
        w.write<std::uint8_t>(config_.bootstrap ? 1 : 0);
        w.write(config_.max_samples);
        config_.class_weight.save(w);
        w.write(config_.random_state);
        w.write<std::int32_t>(config_.n_threads);
        classes_.save(w);
        w.write<std::int64_t>(n_features_);
        w.write<std::uint64_t>(trees_.size());
        for (const auto& tree : trees_) tree.save(w);
        write_container(path, type_tag(), 1, w.bytes(), overwrite);
    }

    static RandomForestClassifier load(const std::filesystem::path& path) {
        const Container c = read_container(path, type_tag());
        if (c.payload_version() != 1)
            detail::fail<format_error>(path.string(), ": RandomForestClassifier payload version ", c.payload_version(), " is not supported");
        ByteReader r = c.reader();
        Config cfg;
        cfg.n_estimators = r.read<std::int64_t>();
        cfg.criterion = r.read<Criterion>();
        cfg.max_depth = r.read<std::int64_t>();
        cfg.min_samples_split = r.read<std::int64_t>();
        cfg.min_samples_leaf = r.read<std::int64_t>();
        cfg.max_features.kind = r.read<MaxFeatures::Kind>();
        cfg.max_features.value = r.read<double>();
        cfg.bootstrap = r.read<std::uint8_t>() != 0;
        cfg.max_samples = r.read<double>();
        cfg.class_weight.load(r);
        cfg.random_state = r.read<std::uint64_t>();
        cfg.n_threads = r.read<std::int32_t>();
        RandomForestClassifier model(cfg);
        model.classes_.load(r);
        model.n_features_ = r.read<std::int64_t>();
        const auto n_trees = r.read<std::uint64_t>();
        if (n_trees == 0 || n_trees > r.remaining()) detail::fail<format_error>(path.string(), ": corrupt tree count ", n_trees);
        model.trees_.resize(n_trees);
        for (auto& tree : model.trees_) {
            tree.load(r, model.n_features_);
            if (tree.n_classes != model.classes_.size()) detail::fail<format_error>(path.string(), ": class count mismatch");
        }
        r.expect_end();
        return model;
    }

    static std::string type_tag() { return std::string("RandomForestClassifier<") + (sizeof(T) == 4 ? "float" : "double") + ">"; }

private:
    /// Rows drawn per tree (scikit-learn's _get_n_samples_bootstrap).
    Index bootstrap_size(Index n, const char* where) const {
        const double m = config_.max_samples;
        if (!(m >= 0.0) || !std::isfinite(m)) detail::fail(where, ": max_samples = ", m, " must be >= 0");
        if (m == 0.0) return n;
        if (m <= 1.0) return std::max<Index>(1, static_cast<Index>(std::round(m * static_cast<double>(n))));
        if (m != std::floor(m) || m > static_cast<double>(n))
            detail::fail(where, ": max_samples = ", m, " must be a fraction in (0, 1] or an integer count <= ", n, " (the number of rows)");
        return static_cast<Index>(m);
    }

    Config config_;
    ClassLabels classes_;
    Index n_features_ = 0;
    std::vector<detail::Tree> trees_;
};

}  // namespace feral
