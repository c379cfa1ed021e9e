// feral/models/pipeline.hpp — a fixed chain of transformers ending in an estimator.
//
// Pipeline<Steps...> composes its steps at compile time (scikit-learn's Pipeline,
// without the run-time type erasure): every step but the last is a transformer
// (fit/transform, or fit_transform), the last one is anything — a classifier, a
// clusterer, or another transformer. Calls are forwarded through the chain:
//
//   fit(X, y)          X_1 = step_0.fit_transform(X[, y]); X_2 = step_1.fit_transform(X_1[, y]); ...
//                      step_last.fit(X_{n-1}[, y])           (y is passed where the step takes it)
//   predict(X)         step_last.predict(step_{n-2}.transform(... step_0.transform(X)))
//   predict_proba, score, decision_function, transform, fit_transform likewise
//
// Each intermediate matrix is released as soon as the next step has consumed it,
// so a chain of k transformers on N x D data holds at most two of them at a time.
//
// Example:
//   auto model = feral::make_pipeline(feral::StandardScaler<>{}, feral::PCA<>({.n_components = 100}),
//                                     feral::KNeighborsClassifier<>({.n_neighbors = 1}));
//   model.fit(X_train, y_train);
//   double accuracy = model.score(X_test, y_test);
//   const auto& pca = model.step<1>();               // or std::get<1>(model.steps())
//   model.save("faces.feral");
//   auto again = decltype(model)::load("faces.feral");
//
// Template parameters: the step types, each a feral estimator `Name<T>` over the same
// scalar type T (float or double), which becomes the pipeline's scalar_type. Steps are
// stored by value, so a pipeline is copyable exactly when its steps are (a copy is an
// independent model: model selection clones pipelines this way).
//
// Saving: the file holds a "Pipeline<Tag0,Tag1,...>" container whose payload is each
// step's own complete model file (written by the step's save()), so a step's format
// stays owned by the step and loading checks it exactly as Step::load does.
// Loading passes each embedded file through a temporary file, because the estimator
// contract only promises load(path).
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/types.hpp"

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace feral {

namespace detail {

/// The scalar type of a feral estimator: its `scalar_type` member if it has one, or else
/// the first template argument of `Name<T, ...>`.
template <class Estimator>
struct estimator_scalar;

template <class Estimator>
    requires requires { typename Estimator::scalar_type; }
struct estimator_scalar<Estimator> {
    using type = typename Estimator::scalar_type;
};

template <template <class...> class Template, class T, class... Rest>
    requires(!requires { typename Template<T, Rest...>::scalar_type; })
struct estimator_scalar<Template<T, Rest...>> {
    using type = T;
};

template <class Estimator>
using estimator_scalar_t = typename estimator_scalar<std::remove_cvref_t<Estimator>>::type;

// What a step can do, as concepts (they make a misuse fail with a readable message).
template <class Step, class T>
concept supervised_fit = requires(Step& s, ConstMatrixRef<T> X, ConstLabelsRef y) { s.fit(X, y); };
template <class Step, class T>
concept unsupervised_fit = requires(Step& s, ConstMatrixRef<T> X) { s.fit(X); };
template <class Step, class T>
concept transforms = requires(const Step& s, ConstMatrixRef<T> X) { s.transform(X); };
template <class Step, class T>
concept predicts = requires(const Step& s, ConstMatrixRef<T> X) { s.predict(X); };
template <class Step, class T>
concept predicts_proba = requires(const Step& s, ConstMatrixRef<T> X) { s.predict_proba(X); };
template <class Step, class T>
concept has_decision_function = requires(const Step& s, ConstMatrixRef<T> X) { s.decision_function(X); };
template <class Step, class T>
concept scores = requires(const Step& s, ConstMatrixRef<T> X, ConstLabelsRef y) {
    { s.score(X, y) } -> std::convertible_to<double>;
};
template <class Step>
concept saveable = requires(const Step& s, const std::filesystem::path& p) {
    s.save(p, Overwrite::yes);
    { Step::load(p) } -> std::same_as<Step>;
};

/// Fits `step` on X (and y, if the step takes labels) and returns X transformed.
/// Uses the step's fit_transform when it has one (it is often cheaper: PCA, k-means).
template <class T, class Step>
auto fit_transform_step(Step& step, ConstMatrixRef<T> X, ConstLabelsRef y) {
    if constexpr (requires { step.fit_transform(X, y); }) {
        return step.fit_transform(X, y);
    } else if constexpr (requires { step.fit_transform(X); }) {
        return step.fit_transform(X);
    } else {
        static_assert(supervised_fit<Step, T> || unsupervised_fit<Step, T>, "a pipeline step needs fit(X) or fit(X, y)");
        static_assert(transforms<Step, T>, "every pipeline step but the last needs transform(X) or fit_transform(X)");
        if constexpr (supervised_fit<Step, T>) step.fit(X, y);
        else step.fit(X);
        return step.transform(X);
    }
}

/// Fits the last step on X (and y, if it takes labels).
template <class T, class Step>
void fit_step(Step& step, ConstMatrixRef<T> X, ConstLabelsRef y) {
    static_assert(supervised_fit<Step, T> || unsupervised_fit<Step, T>, "a pipeline step needs fit(X) or fit(X, y)");
    if constexpr (supervised_fit<Step, T>) step.fit(X, y);
    else step.fit(X);
}

/// A temporary file removed when this object goes out of scope.
class TemporaryFile {
public:
    explicit TemporaryFile(const std::string& stem) {
        static std::atomic<std::uint64_t> counter{0};
        const auto now = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        const auto thread = std::hash<std::thread::id>{}(std::this_thread::get_id());
        path_ = std::filesystem::temp_directory_path() /
                message("feral-", stem, "-", now, "-", thread, "-", counter.fetch_add(1), ".tmp");
    }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;
    ~TemporaryFile() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline std::vector<unsigned char> read_whole_file(const std::filesystem::path& path, const char* where) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail<io_error>(where, ": cannot read back the temporary file '", path.string(), "'");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace detail

template <class... Steps>
class Pipeline {
    static_assert(sizeof...(Steps) >= 1, "a Pipeline needs at least one step");

public:
    using steps_type = std::tuple<Steps...>;
    static constexpr std::size_t n_steps = sizeof...(Steps);
    using first_step_type = std::tuple_element_t<0, steps_type>;
    using last_step_type = std::tuple_element_t<n_steps - 1, steps_type>;
    /// The scalar type every step works in (float or double).
    using scalar_type = detail::estimator_scalar_t<first_step_type>;
    using T = scalar_type;
    static_assert(std::is_floating_point_v<T>, "a Pipeline works on float or double features");

    Pipeline() = default;
    /// The steps, in order; each is stored by value, unfitted or fitted (fit refits all).
    explicit Pipeline(Steps... steps) : steps_(std::move(steps)...) {}

    /// Fits every step in order: each transformer on the output of the one before it
    /// (fit_transform), then the last step. Returns *this. Refitting forgets the old fit.
    /// throws: whatever the steps throw (their messages name the step's function).
    Pipeline& fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
        fitted_ = false;
        if constexpr (n_steps == 1) {
            detail::fit_step<T>(std::get<0>(steps_), X, y);
        } else {
            fit_from<1>(detail::fit_transform_step<T>(std::get<0>(steps_), X, y), y);
        }
        fitted_ = true;
        return *this;
    }

    /// Fits an unsupervised pipeline (every step must accept fit(X) or fit_transform(X)).
    Pipeline& fit(ConstMatrixRef<T> X) { return fit(X, Labels()); }

    /// Fits every step and returns the last step's transform of X.
    Matrix<T> fit_transform(ConstMatrixRef<T> X, ConstLabelsRef y)
        requires detail::transforms<last_step_type, T>
    {
        fitted_ = false;
        Matrix<T> out = fit_transform_from<0>(X, y);
        fitted_ = true;
        return out;
    }
    Matrix<T> fit_transform(ConstMatrixRef<T> X)
        requires detail::transforms<last_step_type, T>
    {
        return fit_transform(X, Labels());
    }

    /// X passed through every step's transform (the last step must be a transformer).
    Matrix<T> transform(ConstMatrixRef<T> X) const
        requires detail::transforms<last_step_type, T>
    {
        check_fitted("Pipeline::transform");
        return transform_range<0, n_steps>(X);
    }

    /// The last step's predictions for X passed through the transformers.
    Labels predict(ConstMatrixRef<T> X) const
        requires detail::predicts<last_step_type, T>
    {
        check_fitted("Pipeline::predict");
        if constexpr (n_steps == 1) return last_step().predict(X);
        else return last_step().predict(transform_range<0, n_steps - 1>(X));
    }

    /// The last step's class probabilities (columns follow classes()).
    auto predict_proba(ConstMatrixRef<T> X) const
        requires detail::predicts_proba<last_step_type, T>
    {
        check_fitted("Pipeline::predict_proba");
        if constexpr (n_steps == 1) return last_step().predict_proba(X);
        else return last_step().predict_proba(transform_range<0, n_steps - 1>(X));
    }

    /// The last step's decision function (SVMs, linear models).
    auto decision_function(ConstMatrixRef<T> X) const
        requires detail::has_decision_function<last_step_type, T>
    {
        check_fitted("Pipeline::decision_function");
        if constexpr (n_steps == 1) return last_step().decision_function(X);
        else return last_step().decision_function(transform_range<0, n_steps - 1>(X));
    }

    /// The last step's score (mean accuracy in [0, 1] for classifiers).
    double score(ConstMatrixRef<T> X, ConstLabelsRef y) const
        requires detail::scores<last_step_type, T>
    {
        check_fitted("Pipeline::score");
        if constexpr (n_steps == 1) return last_step().score(X, y);
        else return last_step().score(transform_range<0, n_steps - 1>(X), y);
    }

    /// The classes the last step was fitted on (predict_proba's column order).
    const std::vector<int>& classes() const
        requires requires(const last_step_type& s) { s.classes(); }
    {
        return last_step().classes();
    }

    /// True once fit() has completed on every step (or the pipeline was loaded).
    [[nodiscard]] bool is_fitted() const { return fitted_; }

    /// Step I (0-based), e.g. model.step<1>().explained_variance_ratio().
    template <std::size_t I>
    [[nodiscard]] auto& step() {
        return std::get<I>(steps_);
    }
    template <std::size_t I>
    [[nodiscard]] const auto& step() const {
        return std::get<I>(steps_);
    }
    [[nodiscard]] const last_step_type& last_step() const { return std::get<n_steps - 1>(steps_); }
    [[nodiscard]] last_step_type& last_step() { return std::get<n_steps - 1>(steps_); }
    /// All steps as a tuple: std::get<I>(model.steps()).
    [[nodiscard]] const steps_type& steps() const { return steps_; }
    [[nodiscard]] steps_type& steps() { return steps_; }

    /// Saves every step into one file (see the header comment for the layout).
    /// throws: not_fitted before fit; io_error when the file exists and overwrite is no,
    ///         or cannot be written.
    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const
        requires(detail::saveable<Steps> && ...)
    {
        check_fitted("Pipeline::save");
        if (overwrite == Overwrite::no && std::filesystem::exists(path))
            detail::fail<io_error>("Pipeline::save: refusing to overwrite existing file '", path.string(),
                                   "' (pass Overwrite::yes to replace it)");
        ByteWriter payload;
        payload.write<std::uint64_t>(n_steps);
        std::string tag = "Pipeline<";
        std::apply(
            [&](const auto&... step) {
                std::size_t index = 0;
                ((save_step(step, index, payload, tag), ++index), ...);
            },
            steps_);
        tag += ">";
        write_container(path, tag, kPayloadVersion, payload.bytes(), overwrite);
    }

    /// Loads a pipeline saved by save() with the same step types.
    /// throws: io_error if the file cannot be read; format_error if it is not a pipeline,
    ///         has another number of steps, or a step's file is not what that step's load
    ///         expects (the message names the step and the file).
    static Pipeline load(const std::filesystem::path& path)
        requires(detail::saveable<Steps> && ...)
    {
        const Container container = read_container(path);
        const std::string& tag = container.type_tag();
        if (tag.rfind("Pipeline<", 0) != 0)
            detail::fail<format_error>("Pipeline::load: '", path.string(), "' holds a ", tag, " model, expected a Pipeline");
        if (container.payload_version() != kPayloadVersion)
            detail::fail<format_error>("Pipeline::load: '", path.string(), "' has payload version ",
                                       container.payload_version(), ", this feral reads version ", kPayloadVersion);
        ByteReader in = container.reader();
        const auto count = in.read<std::uint64_t>();
        if (count != n_steps)
            detail::fail<format_error>("Pipeline::load: '", path.string(), "' holds a pipeline of ", count,
                                       " steps, expected ", n_steps);
        Pipeline out;
        std::apply(
            [&](auto&... step) {
                std::size_t index = 0;
                ((load_step(step, index, in, path), ++index), ...);
            },
            out.steps_);
        in.expect_end();
        out.fitted_ = true;
        return out;
    }

private:
    static constexpr std::uint32_t kPayloadVersion = 1;

    void check_fitted(const char* where) const {
        if (!fitted_) detail::fail<not_fitted>(where, ": the pipeline is not fitted yet: call fit() before using it");
    }

    // Fits steps I..n-1 on X, the output of step I-1; X is owned so it can be released early.
    template <std::size_t I, class Features>
    void fit_from(Features X, ConstLabelsRef y) {
        auto& current = std::get<I>(steps_);
        if constexpr (I + 1 == n_steps) {
            detail::fit_step<T>(current, X, y);
        } else {
            auto next = detail::fit_transform_step<T>(current, X, y);
            Features release = std::move(X);  // free step I's input before going deeper
            (void)release;
            fit_from<I + 1>(std::move(next), y);
        }
    }

    template <std::size_t I>
    Matrix<T> fit_transform_from(ConstMatrixRef<T> X, ConstLabelsRef y) {
        auto next = detail::fit_transform_step<T>(std::get<I>(steps_), X, y);
        if constexpr (I + 1 == n_steps) return Matrix<T>(std::move(next));
        else return fit_transform_from<I + 1>(next, y);
    }

    // X passed through steps [First, End) (End > First).
    template <std::size_t First, std::size_t End, class Features>
    auto transform_range(const Features& X) const {
        auto next = std::get<First>(steps_).transform(X);
        if constexpr (First + 1 == End) return next;
        else return transform_range<First + 1, End>(next);
    }

    template <class Step>
    static void save_step(const Step& step, std::size_t index, ByteWriter& payload, std::string& tag) {
        detail::TemporaryFile file("pipeline-step");
        step.save(file.path(), Overwrite::yes);
        const auto bytes = detail::read_whole_file(file.path(), "Pipeline::save");
        const std::string step_tag = read_container(file.path()).type_tag();
        tag += (index == 0 ? "" : ",") + step_tag;
        payload.write_string(step_tag);
        payload.write_vector(bytes);
    }

    template <class Step>
    static void load_step(Step& step, std::size_t index, ByteReader& in, const std::filesystem::path& path) {
        const std::string step_tag = in.read_string();
        const auto bytes = in.read_vector<unsigned char>();
        detail::TemporaryFile file("pipeline-step");
        {
            std::ofstream out(file.path(), std::ios::binary);
            out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
            if (!out) detail::fail<io_error>("Pipeline::load: cannot write the temporary file '", file.path().string(), "'");
        }
        try {
            step = Step::load(file.path());
        } catch (const format_error& e) {
            detail::fail<format_error>("Pipeline::load: step ", index, " (", step_tag, ") of '", path.string(),
                                       "' cannot be loaded: ", e.what());
        }
    }

    steps_type steps_;
    bool fitted_ = false;
};

/// Builds a Pipeline from its steps, deducing the step types:
///   auto model = feral::make_pipeline(feral::StandardScaler<>{}, feral::GaussianNB<>{});
template <class... Steps>
[[nodiscard]] Pipeline<std::remove_cvref_t<Steps>...> make_pipeline(Steps&&... steps) {
    return Pipeline<std::remove_cvref_t<Steps>...>(std::forward<Steps>(steps)...);
}

/// Step I of a pipeline, for generic code and structured bindings: feral::get<0>(model).
template <std::size_t I, class... Steps>
[[nodiscard]] auto& get(Pipeline<Steps...>& pipeline) {
    return pipeline.template step<I>();
}
template <std::size_t I, class... Steps>
[[nodiscard]] const auto& get(const Pipeline<Steps...>& pipeline) {
    return pipeline.template step<I>();
}

}  // namespace feral

// Structured bindings over the steps: auto& [scaler, pca, knn] = model;
template <class... Steps>
struct std::tuple_size<feral::Pipeline<Steps...>> : std::integral_constant<std::size_t, sizeof...(Steps)> {};
template <std::size_t I, class... Steps>
struct std::tuple_element<I, feral::Pipeline<Steps...>> {
    using type = std::tuple_element_t<I, std::tuple<Steps...>>;
};
