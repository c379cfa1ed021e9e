// feral/data/split.hpp — stratified k-fold indices and stratified train/validation/test splits.
//
// Stratified means every part keeps the class proportions of the whole.
//
// stratified_kfold(labels, k, shuffle, seed)
//   Test folds exactly as scikit-learn 1.2's StratifiedKFold(n_splits=k, shuffle=False):
//     1. classes are numbered in order of first appearance in `labels`;
//     2. the labels sorted by that number are dealt round robin to the k folds; the count
//        of class c dealt to fold f is how many samples of class c fold f tests;
//     3. the samples of class c, in their original order, get fold numbers in blocks:
//        the first count(c, 0) samples go to fold 0, the next count(c, 1) to fold 1, ...
//   With shuffle = true step 3 shuffles each class's block of fold numbers with
//   feral::Random(seed).fork(class) (so the assignment differs from numpy's generator,
//   but the per-fold class counts are the same). Fold f tests the samples numbered f and
//   trains on the others; both index lists are ascending.
//
// stratified_split(labels, {.validation = 0.1, .test = 0.2, .seed = 1})
//   Train / validation / test index lists. Sizes are fractions of the whole (0.2) or
//   counts (500). Per class, the number of test (and validation) samples is the class's
//   share of the total, rounded by largest remainder so the totals are exact; which
//   samples are chosen is a seeded shuffle per class (Random(seed).fork(class)), so the
//   split does not depend on anything but (labels, sizes, seed). Index lists are ascending.
//
// Example:
//   for (const auto& fold : feral::stratified_kfold(data.labels, 5)) {
//       auto train = data.subset(fold.train);
//       auto test = data.subset(fold.test);
//   }
//   auto parts = feral::split_dataset(data, {.validation = 0.1, .test = 0.1, .seed = 7});
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/types.hpp"
#include "feral/data/dataset.hpp"

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <numeric>
#include <vector>

namespace feral {

/// One cross-validation fold: the rows to train on and the rows to test on (ascending).
struct Fold {
    std::vector<Index> train;
    std::vector<Index> test;
};

/// Stratified k-fold cross-validation indices (see the header comment for the exact rule).
/// requires: k >= 2, labels non-negative, k <= the sample count and k <= the size of the
///           largest class (scikit-learn's rule; smaller classes just miss some folds).
/// ensures:  k folds; every row is tested exactly once; fold f's test rows are
///           scikit-learn's for shuffle = false.
/// throws:   invalid_argument naming the offending k or label.
inline std::vector<Fold> stratified_kfold(ConstLabelsRef labels, int k, bool shuffle = false,
                                          std::uint64_t seed = 0) {
    const Index n = labels.size();
    if (k < 2) detail::fail("stratified_kfold: k must be at least 2, got ", k);
    if (n < k) detail::fail("stratified_kfold: cannot make ", k, " folds of ", n, " samples");

    // 1. classes numbered by first appearance.
    std::vector<int> first_seen;  // first_seen[c] = original label of class c
    std::vector<int> encoded(static_cast<std::size_t>(n));
    std::vector<int> lookup;      // original label -> class number, -1 unseen
    for (Index i = 0; i < n; ++i) {
        const int label = labels[i];
        if (label < 0) detail::fail("stratified_kfold: label ", label, " at row ", i, " is negative");
        if (static_cast<std::size_t>(label) >= lookup.size()) lookup.resize(static_cast<std::size_t>(label) + 1, -1);
        int& c = lookup[static_cast<std::size_t>(label)];
        if (c < 0) {
            c = static_cast<int>(first_seen.size());
            first_seen.push_back(label);
        }
        encoded[static_cast<std::size_t>(i)] = c;
    }
    const auto n_classes = first_seen.size();
    std::vector<Index> class_count(n_classes, 0);
    for (int c : encoded) ++class_count[static_cast<std::size_t>(c)];
    if (*std::max_element(class_count.begin(), class_count.end()) < k)
        detail::fail("stratified_kfold: k = ", k, " is greater than the number of members in every class (largest class has ",
                     *std::max_element(class_count.begin(), class_count.end()), ")");

    // 2. round robin over the sorted labels: sorted position p goes to fold p % k.
    //    allocation[f][c] = number of positions p with p % k == f inside class c's run.
    std::vector<std::vector<Index>> allocation(static_cast<std::size_t>(k), std::vector<Index>(n_classes, 0));
    Index run_start = 0;
    for (std::size_t c = 0; c < n_classes; ++c) {
        for (int f = 0; f < k; ++f) {
            // positions p in [run_start, run_start + count) with p ≡ f (mod k)
            const Index end = run_start + class_count[c];
            const Index first = run_start + ((f - run_start % k) % k + k) % k;
            allocation[static_cast<std::size_t>(f)][c] = first < end ? (end - 1 - first) / k + 1 : 0;
        }
        run_start += class_count[c];
    }

    // 3. blocks of fold numbers per class, optionally shuffled, handed out in row order.
    std::vector<int> test_fold(static_cast<std::size_t>(n));
    std::vector<std::vector<int>> folds_for_class(n_classes);
    const Random base(seed);
    for (std::size_t c = 0; c < n_classes; ++c) {
        auto& block = folds_for_class[c];
        block.reserve(static_cast<std::size_t>(class_count[c]));
        for (int f = 0; f < k; ++f) block.insert(block.end(), static_cast<std::size_t>(allocation[static_cast<std::size_t>(f)][c]), f);
        if (shuffle) {
            Random rng = base.fork(c);
            rng.shuffle(block.begin(), block.end());
        }
    }
    std::vector<std::size_t> taken(n_classes, 0);
    for (Index i = 0; i < n; ++i) {
        const auto c = static_cast<std::size_t>(encoded[static_cast<std::size_t>(i)]);
        test_fold[static_cast<std::size_t>(i)] = folds_for_class[c][taken[c]++];
    }

    std::vector<Fold> folds(static_cast<std::size_t>(k));
    for (Index i = 0; i < n; ++i) {
        const int f = test_fold[static_cast<std::size_t>(i)];
        for (int g = 0; g < k; ++g) {
            auto& fold = folds[static_cast<std::size_t>(g)];
            (g == f ? fold.test : fold.train).push_back(i);
        }
    }
    return folds;
}

/// The size of one part of a split: a fraction of the whole in [0, 1), or a sample count.
/// Built implicitly from a floating-point value (fraction) or an integer (count).
class SplitSize {
public:
    constexpr SplitSize() = default;
    template <std::floating_point F>
    constexpr SplitSize(F fraction) : fraction_(static_cast<double>(fraction)), is_count_(false) {}  // NOLINT: implicit on purpose
    template <std::integral I>
    constexpr SplitSize(I count) : count_(static_cast<Index>(count)), is_count_(true) {}  // NOLINT: implicit on purpose

    [[nodiscard]] constexpr bool is_count() const { return is_count_; }
    [[nodiscard]] constexpr double fraction() const { return fraction_; }
    [[nodiscard]] constexpr Index count() const { return count_; }

    /// The number of samples out of `total`; fractions round to nearest (ties up).
    [[nodiscard]] Index resolve(Index total, const char* where, const char* part) const {
        if (is_count_) {
            if (count_ < 0 || count_ > total)
                detail::fail(where, ": ", part, " size ", count_, " is outside 0..", total, " (the number of samples)");
            return count_;
        }
        if (!(fraction_ >= 0.0 && fraction_ < 1.0))
            detail::fail(where, ": ", part, " fraction ", fraction_, " is outside [0, 1)");
        return static_cast<Index>(fraction_ * static_cast<double>(total) + 0.5);
    }

private:
    double fraction_ = 0.0;
    Index count_ = 0;
    bool is_count_ = false;
};

/// Sizes and seed of a stratified three-way split; train gets the rest.
struct SplitConfig {
    SplitSize validation = 0.0;
    SplitSize test = 0.2;
    std::uint64_t seed = 0;
};

/// Row indices of the three parts (ascending; validation may be empty).
struct SplitIndices {
    std::vector<Index> train;
    std::vector<Index> validation;
    std::vector<Index> test;
};

namespace detail {
/// Splits `total` among classes in proportion to `counts`, by largest remainder (ties to the
/// lower class index), never giving a class more than `limit[c]`.
inline std::vector<Index> apportion(Index total, const std::vector<Index>& counts, const std::vector<Index>& limit) {
    Index n = 0;
    for (Index c : counts) n += c;
    std::vector<Index> share(counts.size(), 0);
    if (n == 0 || total == 0) return share;
    std::vector<std::pair<double, std::size_t>> remainder;
    Index given = 0;
    for (std::size_t c = 0; c < counts.size(); ++c) {
        const double exact = static_cast<double>(total) * static_cast<double>(counts[c]) / static_cast<double>(n);
        share[c] = std::min(static_cast<Index>(exact), limit[c]);
        given += share[c];
        remainder.emplace_back(exact - static_cast<double>(share[c]), c);
    }
    std::stable_sort(remainder.begin(), remainder.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    while (given < total) {
        bool progressed = false;
        for (const auto& [rest, c] : remainder) {
            if (given == total) break;
            if (share[c] < limit[c]) {
                ++share[c];
                ++given;
                progressed = true;
            }
        }
        if (!progressed) break;
    }
    return share;
}
}  // namespace detail

/// Stratified train / validation / test row indices (see the header comment).
/// throws: invalid_argument for negative labels, sizes outside range, or validation + test
///         leaving no training sample.
inline SplitIndices stratified_split(ConstLabelsRef labels, const SplitConfig& config = {}) {
    constexpr const char* where = "stratified_split";
    const Index n = labels.size();
    if (n == 0) detail::fail(where, ": no samples to split");
    const Index n_test = config.test.resolve(n, where, "test");
    const Index n_validation = config.validation.resolve(n, where, "validation");
    if (n_test + n_validation >= n)
        detail::fail(where, ": test (", n_test, ") + validation (", n_validation, ") samples leave nothing to train on out of ", n);

    int max_label = -1;
    for (Index i = 0; i < n; ++i) {
        if (labels[i] < 0) detail::fail(where, ": label ", labels[i], " at row ", i, " is negative");
        max_label = std::max(max_label, labels[i]);
    }
    std::vector<std::vector<Index>> rows(static_cast<std::size_t>(max_label) + 1);
    for (Index i = 0; i < n; ++i) rows[static_cast<std::size_t>(labels[i])].push_back(i);
    std::vector<Index> counts(rows.size());
    for (std::size_t c = 0; c < rows.size(); ++c) counts[c] = static_cast<Index>(rows[c].size());

    const auto test_share = detail::apportion(n_test, counts, counts);
    std::vector<Index> left(counts.size());
    for (std::size_t c = 0; c < counts.size(); ++c) left[c] = counts[c] - test_share[c];
    const auto validation_share = detail::apportion(n_validation, counts, left);

    SplitIndices out;
    const Random base(config.seed);
    for (std::size_t c = 0; c < rows.size(); ++c) {
        auto& r = rows[c];
        Random rng = base.fork(c);
        rng.shuffle(r.begin(), r.end());
        const auto t = static_cast<std::ptrdiff_t>(test_share[c]);
        const auto v = static_cast<std::ptrdiff_t>(validation_share[c]);
        out.test.insert(out.test.end(), r.begin(), r.begin() + t);
        out.validation.insert(out.validation.end(), r.begin() + t, r.begin() + t + v);
        out.train.insert(out.train.end(), r.begin() + t + v, r.end());
    }
    std::sort(out.train.begin(), out.train.end());
    std::sort(out.validation.begin(), out.validation.end());
    std::sort(out.test.begin(), out.test.end());
    return out;
}

/// The three parts of a data set.
struct DatasetSplit {
    Dataset train;
    Dataset validation;
    Dataset test;
};

/// stratified_split applied to a Dataset (class names, shape and sources carried along).
inline DatasetSplit split_dataset(const Dataset& data, const SplitConfig& config = {}) {
    data.validate("split_dataset");
    const auto idx = stratified_split(data.labels, config);
    return {data.subset(idx.train), data.subset(idx.validation), data.subset(idx.test)};
}

}  // namespace feral
