// feral/detail/tree_builder.hpp — CART on histogram-binned features, shared by
// DecisionTreeClassifier and RandomForestClassifier.
//
// Why histograms? scikit-learn sorts the node's samples on every candidate feature
// (O(n log n) per feature per node). feral bins every feature once per fit into at
// most 256 bins stored as uint8 codes, column by column (codes[f * n + i]), and a
// node's best split on a feature comes from one pass over its samples that fills a
// 256 x n_classes histogram of weighted class counts, then one scan over the bins.
//  * Exact where it matters: a feature with <= 256 distinct values (8-bit pixels,
//    pixels/255, standardised pixels) gets one bin per distinct value, so every
//    threshold scikit-learn could pick is available and chosen by the same rule
//    (best proxy impurity improvement, midpoint threshold between the two
//    neighbouring values present in the node).
//  * Features with more distinct values (HOG, PCA scores) get up to 256 quantile
//    bins of roughly equal sample counts; thresholds are then restricted to bin
//    edges — the approximation LightGBM and scikit-learn's HistGradientBoosting make.
//  * Small nodes (<= kSmallNode samples) sort their few (code, sample) pairs
//    instead, so the 256-bin scan never dominates near the leaves.
//
// Splitting rule (scikit-learn's BestSplitter): features are drawn without
// replacement in random order; a feature constant in the node does not count
// towards max_features; drawing continues past max_features until at least one
// valid split is found; the split maximising the proxy improvement
//   gini:    sum_k L_k^2 / W_L + sum_k R_k^2 / W_R
//   entropy: sum_k L_k ln(L_k / W_L) + sum_k R_k ln(R_k / W_R)
// wins, the first one found on ties. Nodes are numbered depth-first, left first, as
// scikit-learn's DepthFirstTreeBuilder does, so tree structures compare directly.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

namespace feral {

/// Impurity measure of a classification tree.
enum class Criterion : std::int32_t { gini, entropy };

/// How many features a node examines (scikit-learn's max_features).
struct MaxFeatures {
    enum class Kind : std::int32_t { all, sqrt, log2, count, fraction };
    Kind kind = Kind::all;
    double value = 0.0;

    static MaxFeatures all() { return {Kind::all, 0.0}; }
    static MaxFeatures sqrt() { return {Kind::sqrt, 0.0}; }
    static MaxFeatures log2() { return {Kind::log2, 0.0}; }
    static MaxFeatures count(Index n) { return {Kind::count, static_cast<double>(n)}; }
    static MaxFeatures fraction(double f) { return {Kind::fraction, f}; }

    /// The number of features for a data set of n_features (scikit-learn's rules:
    /// sqrt -> max(1, floor(sqrt(n))), fraction -> max(1, floor(f * n))).
    [[nodiscard]] Index resolve(Index n_features, std::string_view where) const {
        switch (kind) {
        case Kind::all: return n_features;
        case Kind::sqrt: return std::max<Index>(1, static_cast<Index>(std::sqrt(static_cast<double>(n_features))));
        case Kind::log2: return std::max<Index>(1, static_cast<Index>(std::log2(static_cast<double>(n_features))));
        case Kind::count:
            if (value < 1 || value > static_cast<double>(n_features) || value != std::floor(value))
                detail::fail(where, ": max_features = ", value, " must be an integer in 1..", n_features, " (the number of features)");
            return static_cast<Index>(value);
        case Kind::fraction:
            if (!(value > 0.0 && value <= 1.0))
                detail::fail(where, ": max_features fraction = ", value, " must be in (0, 1]");
            return std::max<Index>(1, static_cast<Index>(value * static_cast<double>(n_features)));
        }
        detail::fail(where, ": unknown max_features kind ", static_cast<int>(kind));
    }
};

namespace detail {

/// Features binned once per fit into uint8 codes; see the header comment.
struct BinnedFeatures {
    Index n_samples = 0;
    Index n_features = 0;
    std::vector<std::uint8_t> codes;  ///< column-major: codes[f * n_samples + i]
    std::vector<double> bin_low;      ///< smallest value in bin b of feature f, at [f * 256 + b]
    std::vector<double> bin_high;     ///< largest value in bin b of feature f

    [[nodiscard]] const std::uint8_t* column(Index f) const { return codes.data() + f * n_samples; }
};

inline constexpr int kMaxBins = 256;

/// Distinct values of one column when there are at most kMaxBins of them, found with a
/// small open-addressing hash table (one probe per value instead of a sort of the column).
template <class T>
class DistinctValues {
public:
    /// Collects the distinct values of col[0, n); false as soon as there are more than kMaxBins.
    bool collect(const T* col, Index n) {
        std::fill(used_.begin(), used_.end(), 0);
        values_.clear();
        for (Index i = 0; i < n; ++i) {
            const std::size_t slot = find(col[i]);
            if (used_[slot]) continue;
            if (static_cast<int>(values_.size()) == kMaxBins) return false;
            used_[slot] = 1;
            keys_[slot] = col[i] == T(0) ? T(0) : col[i];  // -0 and +0 are one value
            values_.push_back(keys_[slot]);
        }
        // Rank the values; the table then maps a value to its bin code.
        std::sort(values_.begin(), values_.end());
        for (std::size_t b = 0; b < values_.size(); ++b) codes_[find(values_[b])] = static_cast<std::uint8_t>(b);
        return true;
    }
    [[nodiscard]] const std::vector<T>& sorted() const { return values_; }
    /// Bin code of a value seen by collect().
    [[nodiscard]] std::uint8_t code(T v) const { return codes_[find(v)]; }

private:
    static constexpr std::size_t kSlots = 1024;  // load factor <= 1/4
    [[nodiscard]] std::size_t find(T v) const {
        if (v == T(0)) v = T(0);
        std::uint64_t bits = 0;
        std::memcpy(&bits, &v, sizeof(T));
        std::size_t slot = static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ULL) >> 54);
        while (used_[slot] && keys_[slot] != v) slot = (slot + 1) & (kSlots - 1);
        return slot;
    }
    std::vector<T> keys_ = std::vector<T>(kSlots);
    std::vector<std::uint8_t> used_ = std::vector<std::uint8_t>(kSlots, 0);
    std::vector<std::uint8_t> codes_ = std::vector<std::uint8_t>(kSlots, 0);
    std::vector<T> values_;
};

/// Bins every feature of X (parallel over blocks of 16 features).
template <class T>
BinnedFeatures bin_features(const Eigen::Ref<const Matrix<T>>& X, int n_threads) {
    BinnedFeatures out;
    const Index n = X.rows(), d = X.cols();
    out.n_samples = n;
    out.n_features = d;
    out.codes.resize(static_cast<std::size_t>(n * d));
    out.bin_low.assign(static_cast<std::size_t>(d * kMaxBins), 0.0);
    out.bin_high.assign(static_cast<std::size_t>(d * kMaxBins), 0.0);
    constexpr Index block = 16;
    const Index n_blocks = (d + block - 1) / block;
    parallel_for_dynamic(0, n_blocks, n_threads, [&](std::int64_t blk) {
        const Index f0 = blk * block, width = std::min(block, d - f0);
        // A column-major copy of the block turns 16 strided column reads into one row sweep.
        const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> columns = X.middleCols(f0, width);
        DistinctValues<T> distinct;
        std::vector<T> sorted, uppers;
        for (Index c = 0; c < width; ++c) {
            const Index f = f0 + c;
            const T* col = columns.data() + c * n;
            double* low = out.bin_low.data() + f * kMaxBins;
            double* high = out.bin_high.data() + f * kMaxBins;
            std::uint8_t* codes = out.codes.data() + f * n;
            if (distinct.collect(col, n)) {  // exact: one bin per distinct value
                const auto& values = distinct.sorted();
                for (std::size_t b = 0; b < values.size(); ++b) low[b] = high[b] = static_cast<double>(values[b]);
                for (Index i = 0; i < n; ++i) codes[i] = distinct.code(col[i]);
                continue;
            }
            // Quantile bins: close a bin at a distinct value once it holds about n / 256 samples.
            sorted.assign(col, col + n);
            std::sort(sorted.begin(), sorted.end());
            uppers.clear();
            Index start = 0;
            for (int b = 0; b < kMaxBins && start < n; ++b) {
                Index end = b == kMaxBins - 1 ? n : std::min(n, std::max(start + 1, n * (b + 1) / kMaxBins));
                while (end < n && sorted[static_cast<std::size_t>(end)] == sorted[static_cast<std::size_t>(end - 1)]) ++end;
                low[b] = static_cast<double>(sorted[static_cast<std::size_t>(start)]);
                high[b] = static_cast<double>(sorted[static_cast<std::size_t>(end - 1)]);
                uppers.push_back(sorted[static_cast<std::size_t>(end - 1)]);
                start = end;
            }
            for (Index i = 0; i < n; ++i)
                codes[i] = static_cast<std::uint8_t>(std::lower_bound(uppers.begin(), uppers.end(), col[i]) - uppers.begin());
        }
    });
    return out;
}

/// One node of a fitted tree. Leaves have feature == -1. (No padding: saved as bytes.)
struct TreeNode {
    std::int32_t feature = -1;
    std::int32_t left = -1;
    std::int32_t right = -1;
    std::int32_t n_samples = 0;    ///< training samples (distinct rows) that reached the node
    double threshold = 0.0;        ///< go left when x[feature] <= threshold
    double impurity = 0.0;
    double weighted_n = 0.0;       ///< sum of the sample weights that reached the node
};
static_assert(sizeof(TreeNode) == 40, "TreeNode must have no padding");

/// A fitted classification tree: nodes plus the weighted class counts of each node.
struct Tree {
    std::vector<TreeNode> nodes;
    std::vector<double> values;  ///< nodes.size() x n_classes weighted class counts
    Index n_classes = 0;

    /// The leaf reached by sample x (n_features values).
    template <class T>
    [[nodiscard]] Index apply(const T* x) const {
        std::int32_t node = 0;
        while (nodes[static_cast<std::size_t>(node)].feature >= 0) {
            const TreeNode& nd = nodes[static_cast<std::size_t>(node)];
            node = static_cast<double>(x[nd.feature]) <= nd.threshold ? nd.left : nd.right;
        }
        return node;
    }

    /// Adds the class probabilities of the leaf reached by x to `proba` (n_classes values).
    template <class T, class Out>
    void add_proba(const T* x, Out* proba) const {
        const double* v = values.data() + apply(x) * n_classes;
        double total = 0.0;
        for (Index k = 0; k < n_classes; ++k) total += v[k];
        for (Index k = 0; k < n_classes; ++k) proba[k] += static_cast<Out>(v[k] / total);
    }

    /// Unnormalised-by-sum mean impurity decrease per feature, divided by the root weight
    /// then normalised to sum 1 (scikit-learn's compute_feature_importances). All zero
    /// for a single-leaf tree.
    [[nodiscard]] std::vector<double> feature_importances(Index n_features) const {
        std::vector<double> imp(static_cast<std::size_t>(n_features), 0.0);
        for (const TreeNode& nd : nodes) {
            if (nd.feature < 0) continue;
            const TreeNode& l = nodes[static_cast<std::size_t>(nd.left)];
            const TreeNode& r = nodes[static_cast<std::size_t>(nd.right)];
            imp[static_cast<std::size_t>(nd.feature)] +=
                nd.weighted_n * nd.impurity - l.weighted_n * l.impurity - r.weighted_n * r.impurity;
        }
        double total = 0.0;
        for (double& v : imp) {
            v /= nodes.front().weighted_n;
            total += v;
        }
        if (total > 0.0)
            for (double& v : imp) v /= total;
        return imp;
    }

    [[nodiscard]] Index depth() const {
        std::vector<Index> d(nodes.size(), 0);
        Index best = 0;
        for (std::size_t i = 0; i < nodes.size(); ++i) {  // children always follow parents
            best = std::max(best, d[i]);
            if (nodes[i].feature >= 0) d[static_cast<std::size_t>(nodes[i].left)] = d[static_cast<std::size_t>(nodes[i].right)] = d[i] + 1;
        }
        return best;
    }

    [[nodiscard]] Index n_leaves() const {
        return static_cast<Index>(std::count_if(nodes.begin(), nodes.end(), [](const TreeNode& n) { return n.feature < 0; }));
    }

    void save(ByteWriter& out) const {
        out.write<std::int64_t>(n_classes);
        out.write_vector(nodes);
        out.write_vector(values);
    }

    /// Reads a tree and checks its links, so a corrupt file cannot send apply() astray.
    void load(ByteReader& in, Index n_features) {
        n_classes = in.read<std::int64_t>();
        nodes = in.read_vector<TreeNode>();
        values = in.read_vector<double>();
        const auto m = static_cast<std::int32_t>(nodes.size());
        bool ok = !nodes.empty() && n_classes >= 2 && values.size() == nodes.size() * static_cast<std::size_t>(n_classes);
        for (std::int32_t i = 0; ok && i < m; ++i) {
            const TreeNode& nd = nodes[static_cast<std::size_t>(i)];
            if (nd.feature >= 0)
                ok = nd.feature < n_features && nd.left > i && nd.left < m && nd.right > i && nd.right < m;
        }
        if (!ok) fail<format_error>(in.source(), ": corrupt tree");
    }
};

/// Stopping and splitting parameters of one tree (already validated).
struct TreeParams {
    Criterion criterion = Criterion::gini;
    Index max_depth = 0;  ///< 0 = unlimited
    Index min_samples_split = 2;
    Index min_samples_leaf = 1;
    Index max_features = 0;  ///< resolved count, 1..n_features
};

/// Grows trees on binned features. Owns its workspace: one builder per thread,
/// reused for every tree that thread grows.
class TreeBuilder {
public:
    static constexpr Index kSmallNode = 48;

    TreeBuilder(const BinnedFeatures& data, const int* y, Index n_classes, TreeParams params)
        : data_(data), y_(y), k_(n_classes), params_(params),
          hist_(static_cast<std::size_t>(kMaxBins * n_classes), 0.0), counts_(kMaxBins, 0),
          left_(static_cast<std::size_t>(n_classes)), node_sums_(static_cast<std::size_t>(n_classes)) {}

    /// Grows a tree on `samples` (distinct row indices) with per-row `weights`
    /// (indexed by row; rows not in `samples` are ignored), drawing features from rng.
    Tree build(std::vector<std::int32_t> samples, const std::vector<double>& weights, Random& rng) {
        samples_ = std::move(samples);
        weights_ = &weights;
        features_.resize(static_cast<std::size_t>(data_.n_features));
        for (Index f = 0; f < data_.n_features; ++f) features_[static_cast<std::size_t>(f)] = static_cast<std::int32_t>(f);
        Tree tree;
        tree.n_classes = k_;
        struct Pending {
            Index begin, end, depth;
            std::int32_t parent;
            bool is_left;
        };
        std::vector<Pending> stack{{0, static_cast<Index>(samples_.size()), 0, -1, false}};
        while (!stack.empty()) {
            const Pending p = stack.back();
            stack.pop_back();
            const auto id = static_cast<std::int32_t>(tree.nodes.size());
            if (p.parent >= 0) {
                auto& parent = tree.nodes[static_cast<std::size_t>(p.parent)];
                (p.is_left ? parent.left : parent.right) = id;
            }
            // Weighted class counts and impurity of this node.
            std::fill(node_sums_.begin(), node_sums_.end(), 0.0);
            for (Index s = p.begin; s < p.end; ++s) {
                const auto row = samples_[static_cast<std::size_t>(s)];
                node_sums_[static_cast<std::size_t>(y_[row])] += (*weights_)[static_cast<std::size_t>(row)];
            }
            double total = 0.0;
            for (double v : node_sums_) total += v;
            TreeNode node;
            node.n_samples = static_cast<std::int32_t>(p.end - p.begin);
            node.weighted_n = total;
            node.impurity = impurity(node_sums_.data(), total);
            tree.nodes.push_back(node);
            tree.values.insert(tree.values.end(), node_sums_.begin(), node_sums_.end());

            const Index n = p.end - p.begin;
            const bool leaf = (params_.max_depth > 0 && p.depth >= params_.max_depth) || n < params_.min_samples_split ||
                              n < 2 * params_.min_samples_leaf || node.impurity <= DBL_EPSILON;
            if (leaf) continue;
            const Split split = best_split(p.begin, p.end, total, rng);
            if (split.feature < 0) continue;

            const Index mid = stable_partition(p.begin, p.end, data_.column(split.feature), split.bin);
            auto& nd = tree.nodes.back();
            nd.feature = split.feature;
            const double lo = data_.bin_high[static_cast<std::size_t>(split.feature * kMaxBins + split.bin)];
            const double hi = data_.bin_low[static_cast<std::size_t>(split.feature * kMaxBins + split.next_bin)];
            // scikit-learn's midpoint, falling back to the lower value when rounding reaches the upper.
            double threshold = lo / 2.0 + hi / 2.0;
            if (threshold == hi || std::isinf(threshold)) threshold = lo;
            nd.threshold = threshold;
            stack.push_back({mid, p.end, p.depth + 1, id, false});
            stack.push_back({p.begin, mid, p.depth + 1, id, true});
        }
        return tree;
    }

private:
    struct Split {
        std::int32_t feature = -1;
        int bin = 0;       ///< left child gets codes <= bin
        int next_bin = 0;  ///< smallest code present in the node above bin
        double proxy = -std::numeric_limits<double>::infinity();
    };

    /// Moves the rows of samples_[begin, end) whose code is <= bin to the front, keeping
    /// the order on both sides; returns the first row of the right side. Why stable: the
    /// root's rows are in increasing order, so every node's rows stay so, and the
    /// per-feature passes (col[row] for each row of a node) walk each 28 KB column
    /// forwards instead of jumping around it. Most of a forest's time is these gathers
    /// (the codes of all features, 66 MB for FER2013, do not fit in cache); in order,
    /// rows that share a cache line are read together and the hardware prefetcher keeps
    /// up (rf_full on FER2013: 15.8 s -> 13.5 s; benchmarks/RESULTS.md).
    Index stable_partition(Index begin, Index end, const std::uint8_t* col, int bin) {
        right_rows_.clear();
        Index write = begin;
        for (Index s = begin; s < end; ++s) {
            const std::int32_t row = samples_[static_cast<std::size_t>(s)];
            if (col[row] <= bin)
                samples_[static_cast<std::size_t>(write++)] = row;
            else
                right_rows_.push_back(row);
        }
        std::copy(right_rows_.begin(), right_rows_.end(), samples_.begin() + write);
        return write;
    }

    [[nodiscard]] double impurity(const double* sums, double total) const {
        double v = 0.0;
        if (params_.criterion == Criterion::gini) {
            for (Index k = 0; k < k_; ++k) v += sums[k] * sums[k];
            return 1.0 - v / (total * total);
        }
        for (Index k = 0; k < k_; ++k)
            if (sums[k] > 0.0) v -= sums[k] / total * std::log2(sums[k] / total);
        return v;
    }

    /// Considers the split after group `bin` whose left side is left_ (n_left rows).
    void consider(Split& best, std::int32_t feature, int bin, int next_bin, Index n_left, Index n, double w_left, double total) {
        if (n_left < params_.min_samples_leaf || n - n_left < params_.min_samples_leaf) return;
        const double w_right = total - w_left;
        if (w_left <= 0.0 || w_right <= 0.0) return;
        const double* left = left_.data();
        const double* node = node_sums_.data();
        double proxy = 0.0;
        if (params_.criterion == Criterion::gini) {  // sum_k L_k^2 / W_L + sum_k R_k^2 / W_R
            double sum_left = 0.0, sum_right = 0.0;
            for (Index k = 0; k < k_; ++k) {
                const double r = node[k] - left[k];
                sum_left += left[k] * left[k];
                sum_right += r * r;
            }
            proxy = sum_left / w_left + sum_right / w_right;
        } else {  // sum_k L_k ln(L_k / W_L) + sum_k R_k ln(R_k / W_R)
            for (Index k = 0; k < k_; ++k) {
                const double r = node[k] - left[k];
                if (left[k] > 0.0) proxy += left[k] * std::log(left[k] / w_left);
                if (r > 0.0) proxy += r * std::log(r / w_right);
            }
        }
        if (proxy > best.proxy) best = {feature, bin, next_bin, proxy};
    }

    /// Best split of samples_[begin, end) (node_sums_ holds its class counts).
    /// Returns feature == -1 when the node cannot be split.
    Split best_split(Index begin, Index end, double total, Random& rng) {
        Split best;
        const Index n = end - begin, d = data_.n_features;
        // The node's labels and weights in sample order, gathered once for all its features.
        node_y_.resize(static_cast<std::size_t>(n));
        node_w_.resize(static_cast<std::size_t>(n));
        for (Index s = 0; s < n; ++s) {
            const auto row = static_cast<std::size_t>(samples_[static_cast<std::size_t>(begin + s)]);
            node_y_[static_cast<std::size_t>(s)] = y_[row];
            node_w_[static_cast<std::size_t>(s)] = (*weights_)[row];
        }
        Index visited = 0;
        for (Index t = 0; t < d; ++t) {
            if (visited >= params_.max_features && best.feature >= 0) break;
            const Index pick = t + static_cast<Index>(rng.below(static_cast<std::uint64_t>(d - t)));
            std::swap(features_[static_cast<std::size_t>(t)], features_[static_cast<std::size_t>(pick)]);
            const std::int32_t f = features_[static_cast<std::size_t>(t)];
            const bool constant = n <= kSmallNode ? scan_sorted(best, f, begin, end, total) : scan_histogram(best, f, begin, end, total);
            if (!constant) ++visited;
        }
        return best;
    }

    /// Feature f's codes of the node's samples samples_[begin, end), in sample order (in
    /// node_codes_). Gathered in a loop of independent loads of its own: most of them miss
    /// the cache, and without the scans' store-to-load chains in the way the CPU keeps many
    /// in flight.
    const std::uint8_t* gather_codes(std::int32_t f, Index begin, Index end) {
        const std::uint8_t* col = data_.column(f);
        const std::int32_t* rows = samples_.data() + begin;
        node_codes_.resize(static_cast<std::size_t>(end - begin));
        for (Index s = 0; s < end - begin; ++s) node_codes_[static_cast<std::size_t>(s)] = col[rows[s]];
        return node_codes_.data();
    }

    /// Histogram pass over the node for feature f; returns true when f is constant there.
    bool scan_histogram(Split& best, std::int32_t f, Index begin, Index end, double total) {
        const std::uint8_t* codes = gather_codes(f, begin, end);
        const Index n = end - begin;
        int lo = kMaxBins, hi = -1;
        for (Index s = 0; s < n; ++s) {
            const int c = codes[s];
            ++counts_[static_cast<std::size_t>(c)];
            hist_[static_cast<std::size_t>(c * k_ + node_y_[static_cast<std::size_t>(s)])] += node_w_[static_cast<std::size_t>(s)];
            lo = std::min(lo, c);
            hi = std::max(hi, c);
        }
        const bool constant = lo == hi;
        if (!constant) {
            std::fill(left_.begin(), left_.end(), 0.0);
            Index n_left = 0;
            double w_left = 0.0;
            int previous = -1;
            for (int b = lo; b <= hi; ++b) {
                const Index count = counts_[static_cast<std::size_t>(b)];
                if (count == 0) continue;
                if (previous >= 0) consider(best, f, previous, b, n_left, end - begin, w_left, total);
                const double* h = hist_.data() + b * k_;
                for (Index k = 0; k < k_; ++k) {
                    left_[static_cast<std::size_t>(k)] += h[k];
                    w_left += h[k];
                }
                n_left += count;
                previous = b;
            }
        }
        for (int b = lo; b <= hi; ++b) counts_[static_cast<std::size_t>(b)] = 0;
        std::fill(hist_.begin() + lo * k_, hist_.begin() + (hi + 1) * k_, 0.0);
        return constant;
    }

    /// Same as scan_histogram for a small node: sort its (code, row) pairs instead.
    bool scan_sorted(Split& best, std::int32_t f, Index begin, Index end, double total) {
        const std::uint8_t* codes = gather_codes(f, begin, end);
        const Index n = end - begin;
        pairs_.resize(static_cast<std::size_t>(n));
        for (Index s = 0; s < n; ++s)
            pairs_[static_cast<std::size_t>(s)] = (static_cast<std::uint32_t>(codes[s]) << 24) | static_cast<std::uint32_t>(s);
        std::sort(pairs_.begin(), pairs_.end());
        if ((pairs_.front() >> 24) == (pairs_.back() >> 24)) return true;
        std::fill(left_.begin(), left_.end(), 0.0);
        double w_left = 0.0;
        for (Index i = 0; i < n; ++i) {
            const std::size_t s = pairs_[static_cast<std::size_t>(i)] & 0xFFFFFFu;
            const double wi = node_w_[s];
            left_[static_cast<std::size_t>(node_y_[s])] += wi;
            w_left += wi;
            const int code = static_cast<int>(pairs_[static_cast<std::size_t>(i)] >> 24);
            if (i + 1 < n) {
                const int next = static_cast<int>(pairs_[static_cast<std::size_t>(i + 1)] >> 24);
                if (next != code) consider(best, f, code, next, i + 1, n, w_left, total);
            }
        }
        return false;
    }

    const BinnedFeatures& data_;
    const int* y_;
    Index k_;
    TreeParams params_;
    std::vector<double> hist_;
    std::vector<Index> counts_;
    std::vector<double> left_, node_sums_;
    std::vector<std::int32_t> samples_, features_, right_rows_;
    std::vector<std::int32_t> node_y_;  // labels of the node's samples, in sample order
    std::vector<double> node_w_;        // their weights
    std::vector<std::uint8_t> node_codes_;  // one feature's codes of the node's samples
    std::vector<std::uint32_t> pairs_;
    const std::vector<double>* weights_ = nullptr;
};

}  // namespace detail
}  // namespace feral
