// feral/models/grid_search.hpp — exhaustive search over a grid of hyperparameters with
// cross-validation (scikit-learn's GridSearchCV).
//
// A grid names the values to try for each parameter; a candidate is one choice per
// parameter (a Params). The estimator for a candidate is made by a user factory,
//
//   Estimator factory(const feral::Params& p);
//
// so any estimator, pipeline or Config field can be searched without feral knowing the
// field names, and the candidate's values are read with their types checked:
//
//   feral::ParamGrid grid{{"n_neighbors", {1, 3, 5, 7}}, {"weights", {"uniform", "distance"}}};
//   feral::GridSearchCV search(
//       [](const feral::Params& p) {
//           const bool by_distance = p.get<std::string>("weights") == "distance";
//           return feral::KNeighborsClassifier<>(
//               {.n_neighbors = p.get<feral::Index>("n_neighbors"),
//                .weights = by_distance ? feral::NeighborWeights::distance : feral::NeighborWeights::uniform});
//       },
//       grid, {.n_splits = 5});
//   search.fit(X, y);
//   search.best_params().get<int>("n_neighbors");   search.best_score();
//   search.predict(X_test);                          // the best candidate refitted on all of X
//
// Why a factory rather than a setter callback on a copied Config: the factory states the
// whole estimator in one expression (designated initialisers read like the grid), works
// for pipelines whose steps each have their own Config, and constructs a fresh estimator
// per task, so no state leaks between candidates or threads.
//
// Order and ties, exactly as scikit-learn 1.2: within a grid the parameter names are
// sorted, and the candidates are their Cartesian product with the last name varying
// fastest (ParameterGrid); several grids are searched one after another. Candidates are
// ranked by mean test score ("min" ranking: equal means share a rank), and the best one
// is the first candidate in that order with the highest mean.
//
// Work: (candidates x folds) fits, handed out one at a time to Config::n_threads workers
// (feral::parallel_for_dynamic). Inside a worker the estimator's own loops run serially
// and Eigen's products use one thread, so pools never nest; the final refit on all the
// data runs outside the workers with the estimator's own thread setting. The factory is
// called from several threads at once and must not modify shared state.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/data/split.hpp"
#include "feral/models/model_selection.hpp"
#include "feral/models/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace feral {

/// One hyperparameter value: a boolean, an integer, a real number or a string.
using ParamValue = std::variant<bool, int, double, std::string>;

/// A value as text: true, 3, 0.1, 'rbf' (strings quoted, as Python prints them).
/// (A template taking exactly ParamValue, so an int or a string never converts to it.)
template <class Value>
    requires std::same_as<Value, ParamValue>
std::string to_string(const Value& value) {
    return std::visit(
        [](const auto& v) -> std::string {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, bool>) {
                return v ? "true" : "false";
            } else if constexpr (std::is_same_v<V, std::string>) {
                return "'" + v + "'";
            } else {
                std::ostringstream out;
                out.precision(17);
                out << v;
                return out.str();
            }
        },
        value);
}

/// One candidate: a value for each named parameter, names in sorted order.
class Params {
public:
    Params() = default;
    /// Parameters in any order; sorted by name. Throws invalid_argument on a repeated name.
    Params(std::initializer_list<std::pair<std::string, ParamValue>> values)
        : Params(std::vector<std::pair<std::string, ParamValue>>(values)) {}
    explicit Params(std::vector<std::pair<std::string, ParamValue>> values) : values_(std::move(values)) {
        std::stable_sort(values_.begin(), values_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t i = 1; i < values_.size(); ++i)
            if (values_[i].first == values_[i - 1].first)
                detail::fail("Params: parameter '", values_[i].first, "' is given twice");
    }

    /// The value of `name` as V: bool, int, double (an int value converts), std::string.
    /// throws: invalid_argument if there is no such parameter or it holds another type.
    template <class V>
    [[nodiscard]] V get(std::string_view name) const {
        const ParamValue& value = at(name);
        if constexpr (std::is_same_v<V, double> || std::is_same_v<V, float>) {
            if (const int* i = std::get_if<int>(&value)) return static_cast<V>(*i);
            if (const double* d = std::get_if<double>(&value)) return static_cast<V>(*d);
        } else if constexpr (std::is_same_v<V, bool> || std::is_same_v<V, std::string>) {
            if (const V* v = std::get_if<V>(&value)) return *v;
        } else if constexpr (std::is_integral_v<V>) {
            if (const int* i = std::get_if<int>(&value)) return static_cast<V>(*i);
        } else {
            static_assert(std::is_same_v<V, void>, "Params::get<V>: V must be bool, an integer type, float, double or std::string");
        }
        detail::fail("Params::get: parameter '", name, "' is ", feral::to_string(value), ", which is not ", type_name<V>());
    }

    /// The value of `name` as stored. throws: invalid_argument if there is no such parameter.
    [[nodiscard]] const ParamValue& at(std::string_view name) const {
        for (const auto& [key, value] : values_)
            if (key == name) return value;
        std::string known;
        for (const auto& [key, value] : values_) known += (known.empty() ? "" : ", ") + key;
        detail::fail("Params::get: no parameter '", name, "' in this candidate (it has: ",
                     known.empty() ? std::string("none") : known, ")");
    }

    [[nodiscard]] bool contains(std::string_view name) const {
        return std::any_of(values_.begin(), values_.end(), [&](const auto& kv) { return kv.first == name; });
    }
    [[nodiscard]] std::size_t size() const { return values_.size(); }
    [[nodiscard]] const std::vector<std::pair<std::string, ParamValue>>& items() const { return values_; }

    /// {'C': 1, 'kernel': 'rbf'}, like a Python dict.
    [[nodiscard]] std::string to_string() const {
        std::string out = "{";
        for (std::size_t i = 0; i < values_.size(); ++i)
            out += (i ? ", '" : "'") + values_[i].first + "': " + feral::to_string(values_[i].second);
        return out + "}";
    }

    friend bool operator==(const Params&, const Params&) = default;

private:
    template <class V>
    static const char* type_name() {
        if constexpr (std::is_same_v<V, bool>) return "a bool";
        else if constexpr (std::is_same_v<V, std::string>) return "a string";
        else if constexpr (std::is_floating_point_v<V>) return "a number";
        else return "an integer";
    }

    std::vector<std::pair<std::string, ParamValue>> values_;
};

/// A grid: for each parameter name, the values to try (scikit-learn's param_grid dict).
class ParamGrid {
public:
    using Entry = std::pair<std::string, std::vector<ParamValue>>;

    ParamGrid() = default;
    ParamGrid(std::initializer_list<Entry> entries) : ParamGrid(std::vector<Entry>(entries)) {}
    /// throws: invalid_argument for a repeated name or a parameter with no values.
    explicit ParamGrid(std::vector<Entry> entries) : entries_(std::move(entries)) {
        std::stable_sort(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (entries_[i].second.empty())
                detail::fail("ParamGrid: parameter '", entries_[i].first, "' has no values to try");
            if (i > 0 && entries_[i].first == entries_[i - 1].first)
                detail::fail("ParamGrid: parameter '", entries_[i].first, "' is given twice");
        }
    }

    /// Number of candidates (the product of the value counts; 1 for an empty grid).
    [[nodiscard]] std::size_t size() const {
        std::size_t n = 1;
        for (const auto& entry : entries_) n *= entry.second.size();
        return n;
    }

    /// Every candidate in scikit-learn's ParameterGrid order: names sorted, the last
    /// name's values varying fastest.
    [[nodiscard]] std::vector<Params> candidates() const {
        std::vector<Params> out;
        out.reserve(size());
        std::vector<std::size_t> choice(entries_.size(), 0);  // an odometer over the value lists
        for (std::size_t c = 0; c < size(); ++c) {
            std::vector<std::pair<std::string, ParamValue>> values;
            values.reserve(entries_.size());
            for (std::size_t p = 0; p < entries_.size(); ++p) values.emplace_back(entries_[p].first, entries_[p].second[choice[p]]);
            out.emplace_back(std::move(values));
            for (std::size_t p = entries_.size(); p-- > 0;) {
                if (++choice[p] < entries_[p].second.size()) break;
                choice[p] = 0;
            }
        }
        return out;
    }

    [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }

private:
    std::vector<Entry> entries_;
};

/// Per-candidate results of a search (scikit-learn's cv_results_), in candidate order.
struct GridSearchResults {
    std::vector<Params> params;
    Matrix<double> split_test_score;      ///< candidates x folds
    std::vector<double> mean_test_score;  ///< mean over folds
    std::vector<double> std_test_score;   ///< population standard deviation over folds (numpy's std)
    std::vector<int> rank_test_score;     ///< 1 = best; equal means share the lowest rank
    std::vector<double> mean_fit_seconds; ///< mean wall time of fit + score per fold
};

/// Configuration of a GridSearchCV (scikit-learn's cv / refit / n_jobs).
struct GridSearchConfig {
    int n_splits = 5;                ///< stratified folds (>= 2)
    bool shuffle = false;            ///< shuffle before splitting (seeded by random_state)
    std::uint64_t random_state = 0;  ///< seed for shuffle
    bool refit = true;               ///< refit the best candidate on all the data
    int n_threads = 0;               ///< workers over candidates x folds; 0 = FERAL_NUM_THREADS or all cores
};

template <class Factory>
    requires std::invocable<const Factory&, const Params&>
class GridSearchCV {
public:
    /// The type the factory returns.
    using estimator_type = std::remove_cvref_t<std::invoke_result_t<const Factory&, const Params&>>;
    using Config = GridSearchConfig;

    /// Stores the factory, the grids and the configuration; validation happens in fit.
    GridSearchCV(Factory factory, ParamGrid grid, Config config = {})
        : GridSearchCV(std::move(factory), std::vector<ParamGrid>{std::move(grid)}, config) {}
    /// Several grids, searched one after another (scikit-learn's list of dicts).
    GridSearchCV(Factory factory, std::vector<ParamGrid> grids, Config config = {})
        : factory_(std::move(factory)), grids_(std::move(grids)), config_(config) {}

    /// Cross-validates every candidate and (with refit) fits the best on all of (X, y).
    /// Returns *this. Refitting forgets the old search.
    /// throws: invalid_argument for bad input, configuration or an empty grid; an
    ///         estimator's exception, its message prefixed with the candidate and fold.
    template <class Derived>
    GridSearchCV& fit(const Eigen::MatrixBase<Derived>& X, ConstLabelsRef y) {
        using T = typename Derived::Scalar;
        static_assert(cross_validatable<estimator_type, T>, "GridSearchCV: the factory's estimator needs fit(X, y) and score(X, y)");
        constexpr const char* where = "GridSearchCV::fit";
        const ConstMatrixRef<T> features(X.derived());
        results_ = {};
        best_.reset();
        best_index_ = -1;
        detail::check_cross_validation_input<T>(features, y, where);
        if (config_.n_splits < 2) detail::fail(where, ": n_splits must be at least 2, got ", config_.n_splits);
        resolve_threads(config_.n_threads);  // a bad thread setting fails here, before any work

        std::vector<Params> candidates;
        for (const auto& grid : grids_) {
            auto more = grid.candidates();
            candidates.insert(candidates.end(), more.begin(), more.end());
        }
        if (candidates.empty()) detail::fail(where, ": the parameter grid list is empty");
        const auto folds = stratified_kfold(y, config_.n_splits, config_.shuffle, config_.random_state);

        const auto n_candidates = static_cast<Index>(candidates.size());
        const auto n_folds = static_cast<Index>(folds.size());
        Matrix<double> scores(n_candidates, n_folds);
        Matrix<double> seconds(n_candidates, n_folds);
        const bool parallel = detail::runs_in_parallel(n_candidates * n_folds, config_.n_threads);
        parallel_for_dynamic(0, n_candidates * n_folds, config_.n_threads, [&](std::int64_t task) {
            const Index c = task / n_folds;
            const Index f = task % n_folds;
            const auto& params = candidates[static_cast<std::size_t>(c)];
            const detail::SingleThreadedEigen one_thread_inside(parallel);
            const auto start = std::chrono::steady_clock::now();
            try {
                scores(c, f) = detail::fit_and_score<T>(factory_(params), features, y, folds[static_cast<std::size_t>(f)]);
            } catch (const error&) {
                detail::rethrow_with_context(detail::message(where, ": candidate ", c, " ", params.to_string(), ", fold ", f, ": "));
            }
            seconds(c, f) = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        });

        summarise(std::move(candidates), scores, seconds);
        if (config_.refit) {
            best_.emplace(factory_(best_params()));
            try {
                best_->fit(features, y);
            } catch (const error&) {
                best_.reset();
                detail::rethrow_with_context(detail::message(where, ": refitting the best candidate ", best_params().to_string(), ": "));
            }
        }
        return *this;
    }

    /// The best candidate (the first one with the highest mean test score).
    [[nodiscard]] const Params& best_params() const {
        check_searched("GridSearchCV::best_params");
        return results_.params[static_cast<std::size_t>(best_index_)];
    }
    /// Its mean cross-validated score.
    [[nodiscard]] double best_score() const {
        check_searched("GridSearchCV::best_score");
        return results_.mean_test_score[static_cast<std::size_t>(best_index_)];
    }
    /// Its position in cv_results().
    [[nodiscard]] Index best_index() const {
        check_searched("GridSearchCV::best_index");
        return best_index_;
    }
    [[nodiscard]] const GridSearchResults& cv_results() const {
        check_searched("GridSearchCV::cv_results");
        return results_;
    }
    /// The best candidate fitted on all the data (needs Config::refit).
    [[nodiscard]] const estimator_type& best_estimator() const {
        check_searched("GridSearchCV::best_estimator");
        if (!best_) detail::fail<not_fitted>("GridSearchCV::best_estimator: the search ran with refit = false, so no estimator was refitted");
        return *best_;
    }

    /// Forwarded to best_estimator().
    template <class Derived>
        requires detail::predicts<estimator_type, typename Derived::Scalar>
    [[nodiscard]] Labels predict(const Eigen::MatrixBase<Derived>& X) const {
        return best_estimator().predict(ConstMatrixRef<typename Derived::Scalar>(X.derived()));
    }
    template <class Derived>
        requires detail::predicts_proba<estimator_type, typename Derived::Scalar>
    [[nodiscard]] auto predict_proba(const Eigen::MatrixBase<Derived>& X) const {
        return best_estimator().predict_proba(ConstMatrixRef<typename Derived::Scalar>(X.derived()));
    }
    template <class Derived>
    [[nodiscard]] double score(const Eigen::MatrixBase<Derived>& X, ConstLabelsRef y) const {
        return best_estimator().score(ConstMatrixRef<typename Derived::Scalar>(X.derived()), y);
    }

    /// True once fit has completed (and, with refit, the best estimator is fitted).
    [[nodiscard]] bool is_fitted() const { return best_index_ >= 0 && (!config_.refit || best_.has_value()); }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] const std::vector<ParamGrid>& grids() const { return grids_; }

private:
    void check_searched(const char* where) const {
        if (best_index_ < 0) detail::fail<not_fitted>(where, ": the search has not run yet: call fit() first");
    }

    // Means, standard deviations and ranks as scikit-learn's _format_results computes them.
    void summarise(std::vector<Params> candidates, const Matrix<double>& scores, const Matrix<double>& seconds) {
        const Index n_candidates = scores.rows();
        const Index n_folds = scores.cols();
        results_.params = std::move(candidates);
        results_.split_test_score = scores;
        results_.mean_test_score.resize(static_cast<std::size_t>(n_candidates));
        results_.std_test_score.resize(static_cast<std::size_t>(n_candidates));
        results_.mean_fit_seconds.resize(static_cast<std::size_t>(n_candidates));
        for (Index c = 0; c < n_candidates; ++c) {
            double sum = 0.0;  // summed in fold order, then divided: numpy's mean for a few values
            for (Index f = 0; f < n_folds; ++f) sum += scores(c, f);
            const double mean = sum / static_cast<double>(n_folds);
            double squares = 0.0;
            for (Index f = 0; f < n_folds; ++f) squares += (scores(c, f) - mean) * (scores(c, f) - mean);
            results_.mean_test_score[static_cast<std::size_t>(c)] = mean;
            results_.std_test_score[static_cast<std::size_t>(c)] = std::sqrt(squares / static_cast<double>(n_folds));
            double fit_seconds = 0.0;
            for (Index f = 0; f < n_folds; ++f) fit_seconds += seconds(c, f);
            results_.mean_fit_seconds[static_cast<std::size_t>(c)] = fit_seconds / static_cast<double>(n_folds);
        }
        // rank = 1 + the number of candidates with a strictly higher mean ("min" ranking).
        const auto& means = results_.mean_test_score;
        results_.rank_test_score.assign(means.size(), 1);
        for (std::size_t c = 0; c < means.size(); ++c)
            for (double other : means)
                if (other > means[c]) ++results_.rank_test_score[c];
        best_index_ = 0;
        for (std::size_t c = 1; c < means.size(); ++c)
            if (means[c] > means[static_cast<std::size_t>(best_index_)]) best_index_ = static_cast<Index>(c);
    }

    Factory factory_;
    std::vector<ParamGrid> grids_;
    Config config_;
    GridSearchResults results_;
    std::optional<estimator_type> best_;
    Index best_index_ = -1;
};

}  // namespace feral
