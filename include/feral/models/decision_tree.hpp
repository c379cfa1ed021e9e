// feral/models/decision_tree.hpp — a CART classification tree (scikit-learn's
// DecisionTreeClassifier).
//
// Template parameter T: the scalar type of X (float by default).
//
// Example:
//   feral::DecisionTreeClassifier<> tree({.criterion = feral::Criterion::entropy, .max_depth = 8});
//   tree.fit(X_train, y_train);
//   feral::Labels predicted = tree.predict(X_test);
//   auto importance = tree.feature_importances();   // sums to 1
//
// The tree is grown on histogram-binned features (detail/tree_builder.hpp): exact
// for features with at most 256 distinct values (raw, scaled or standardised 8-bit
// pixels), quantile bins of the training values otherwise. With max_features = all
// and no tied candidate splits, the fitted tree has scikit-learn's structure, node
// numbering, thresholds and leaf values.
//
// Parameters (defaults = scikit-learn 1.2):
//   criterion          gini           gini or entropy
//   max_depth          0              0 = unlimited, else >= 1
//   min_samples_split  2              a node with fewer samples becomes a leaf (>= 2)
//   min_samples_leaf   1              each child keeps at least this many (>= 1)
//   max_features       all            features drawn per node: all, sqrt, log2, count(n), fraction(f)
//   class_weight       none           none, balanced, custom({{label, weight}, ...})
//   random_state       0              seeds the feature order at each node
//   n_threads          0              threads for binning the features (0 = automatic)
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

#include <cstdint>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

namespace feral {

namespace detail {
/// Checks the parameters shared by the tree and the forest.
inline void check_tree_params(Criterion criterion, Index max_depth, Index min_samples_split, Index min_samples_leaf,
                              const char* where) {
    if (criterion != Criterion::gini && criterion != Criterion::entropy)
        fail(where, ": unknown criterion ", static_cast<int>(criterion));
    if (max_depth < 0) fail(where, ": max_depth = ", max_depth, " must be >= 1 (or 0 for unlimited)");
    if (min_samples_split < 2) fail(where, ": min_samples_split = ", min_samples_split, " must be >= 2");
    if (min_samples_leaf < 1) fail(where, ": min_samples_leaf = ", min_samples_leaf, " must be >= 1");
}
}  // namespace detail

template <class T = float>
class DecisionTreeClassifier {
public:
    struct Config {
        Criterion criterion = Criterion::gini;
        Index max_depth = 0;
        Index min_samples_split = 2;
        Index min_samples_leaf = 1;
        MaxFeatures max_features = MaxFeatures::all();
        ClassWeight class_weight = ClassWeight::none();
        std::uint64_t random_state = 0;
        int n_threads = 0;
    };

    DecisionTreeClassifier() = default;
    explicit DecisionTreeClassifier(Config config) : config_(std::move(config)) {}

    /// Grows the tree. Throws invalid_argument for bad parameters or data (NaN, empty,
    /// mismatched labels, fewer than 2 classes).
    DecisionTreeClassifier& fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
        constexpr const char* where = "DecisionTreeClassifier::fit";
        detail::check_tree_params(config_.criterion, config_.max_depth, config_.min_samples_split, config_.min_samples_leaf, where);
        check_fit_input(X, y, where);
        if (config_.class_weight.mode == ClassWeight::Mode::balanced_subsample)
            detail::fail(where, ": class_weight balanced_subsample needs bootstrap samples (RandomForestClassifier)");
        const Index max_features = config_.max_features.resolve(X.cols(), where);
        ClassLabels classes;
        classes.fit(y, where);
        const Labels dense = classes.encode(y, where);
        const auto class_weights = config_.class_weight.per_class(classes, dense, where);

        const detail::BinnedFeatures binned = detail::bin_features<T>(X, config_.n_threads);
        std::vector<double> weights(static_cast<std::size_t>(X.rows()));
        for (Index i = 0; i < X.rows(); ++i) weights[static_cast<std::size_t>(i)] = class_weights[static_cast<std::size_t>(dense[i])];
        std::vector<std::int32_t> samples(static_cast<std::size_t>(X.rows()));
        std::iota(samples.begin(), samples.end(), 0);
        detail::TreeBuilder builder(binned, dense.data(), classes.size(),
                                    {config_.criterion, config_.max_depth, config_.min_samples_split, config_.min_samples_leaf, max_features});
        Random rng(config_.random_state);
        tree_ = builder.build(std::move(samples), weights, rng);
        classes_ = std::move(classes);
        n_features_ = X.cols();
        return *this;
    }

    /// Predicted labels (the class with the largest weighted count in the leaf; the
    /// smallest label on ties).
    [[nodiscard]] Labels predict(ConstMatrixRef<T> X) const { return classes_.decode_argmax(predict_proba(X)); }

    /// Class fractions of the leaf each sample reaches; columns follow classes().
    [[nodiscard]] Matrix<T> predict_proba(ConstMatrixRef<T> X) const {
        constexpr const char* where = "DecisionTreeClassifier::predict_proba";
        check_fitted(is_fitted(), "DecisionTreeClassifier");
        check_predict_input(X, n_features_, where);
        Matrix<T> out = Matrix<T>::Zero(X.rows(), classes_.size());
        parallel_for(0, X.rows(), config_.n_threads, [&](std::int64_t b, std::int64_t e) {
            for (Index i = b; i < e; ++i) tree_.add_proba(X.row(i).data(), out.row(i).data());
        });
        return out;
    }

    /// Index of the leaf each sample reaches (scikit-learn's apply).
    [[nodiscard]] Labels apply(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "DecisionTreeClassifier");
        check_predict_input(X, n_features_, "DecisionTreeClassifier::apply");
        Labels out(X.rows());
        for (Index i = 0; i < X.rows(); ++i) out[i] = static_cast<int>(tree_.apply(X.row(i).data()));
        return out;
    }

    [[nodiscard]] double score(ConstMatrixRef<T> X, ConstLabelsRef y) const {
        return accuracy_against(predict(X), y, classes_, "DecisionTreeClassifier::score");
    }

    [[nodiscard]] const std::vector<int>& classes() const { return classes_.classes(); }
    [[nodiscard]] bool is_fitted() const { return !tree_.nodes.empty(); }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] Index n_features() const { return n_features_; }

    /// Mean impurity decrease per feature, normalised to sum 1 (all zero for a single leaf).
    [[nodiscard]] Vector<double> feature_importances() const {
        check_fitted(is_fitted(), "DecisionTreeClassifier");
        const auto imp = tree_.feature_importances(n_features_);
        return Eigen::Map<const Vector<double>>(imp.data(), n_features_);
    }

    /// The fitted nodes (scikit-learn's tree_): node i's children, feature, threshold,
    /// impurity, n_samples, weighted_n, and values() row i = weighted class counts.
    [[nodiscard]] const detail::Tree& tree() const {
        check_fitted(is_fitted(), "DecisionTreeClassifier");
        return tree_;
    }
    [[nodiscard]] Index depth() const { return tree().depth(); }
    [[nodiscard]] Index n_leaves() const { return tree().n_leaves(); }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        check_fitted(is_fitted(), "DecisionTreeClassifier");
        ByteWriter w;
        write_config(w, config_);
        classes_.save(w);
        w.write<std::int64_t>(n_features_);
        tree_.save(w);
        write_container(path, type_tag(), 1, w.bytes(), overwrite);
    }

    static DecisionTreeClassifier load(const std::filesystem::path& path) {
        const Container c = read_container(path, type_tag());
        if (c.payload_version() != 1)
            detail::fail<format_error>(path.string(), ": DecisionTreeClassifier payload version ", c.payload_version(), " is not supported");
        ByteReader r = c.reader();
        DecisionTreeClassifier model(read_config(r));
        model.classes_.load(r);
        model.n_features_ = r.read<std::int64_t>();
        model.tree_.load(r, model.n_features_);
        r.expect_end();
        if (model.tree_.n_classes != model.classes_.size()) detail::fail<format_error>(path.string(), ": class count mismatch");
        return model;
    }

    static std::string type_tag() { return std::string("DecisionTreeClassifier<") + (sizeof(T) == 4 ? "float" : "double") + ">"; }

private:
    static void write_config(ByteWriter& w, const Config& c) {
        w.write(c.criterion);
        w.write<std::int64_t>(c.max_depth);
        w.write<std::int64_t>(c.min_samples_split);
        w.write<std::int64_t>(c.min_samples_leaf);
        w.write(c.max_features.kind);
        w.write(c.max_features.value);
        c.class_weight.save(w);
        w.write(c.random_state);
        w.write<std::int32_t>(c.n_threads);
    }
    static Config read_config(ByteReader& r) {
        Config c;
        c.criterion = r.read<Criterion>();
        c.max_depth = r.read<std::int64_t>();
        c.min_samples_split = r.read<std::int64_t>();
        c.min_samples_leaf = r.read<std::int64_t>();
        c.max_features.kind = r.read<MaxFeatures::Kind>();
        c.max_features.value = r.read<double>();
        c.class_weight.load(r);
        c.random_state = r.read<std::uint64_t>();
        c.n_threads = r.read<std::int32_t>();
        return c;
    }

    Config config_;
    ClassLabels classes_;
    Index n_features_ = 0;
    detail::Tree tree_;
};

}  // namespace feral
