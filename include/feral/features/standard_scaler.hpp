// feral/features/standard_scaler.hpp — per-feature standardisation, z = (x - mean) / scale.
//
// fit learns each feature's mean and population variance; transform subtracts the mean
// (if with_mean) and divides by scale = sqrt(variance) (if with_std). A feature that is
// constant in the training data gets scale 1, so it maps to 0 instead of dividing by
// zero (scikit-learn 1.2's rule: variance <= n eps variance + (n mean eps)^2).
// inverse_transform undoes transform. Results equal scikit-learn 1.2's StandardScaler.
//
// Example:
//   feral::StandardScaler<> scaler;
//   feral::Matrix<float> Z = scaler.fit_transform(X_train);
//   feral::Matrix<float> Z_test = scaler.transform(X_test);
//
// Statistics are accumulated in double (two passes, with scikit-learn's correction
// term; detail::column_moments, shared with GaussianNB and PCA), parallel over fixed
// row parts so that the result does not depend on the thread count; transform runs in
// parallel over row blocks with vectorised rows.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/huge_pages.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/detail/column_moments.hpp"

#include <algorithm>
#include <exception>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace feral {

namespace detail {

/// Runs body() with Eigen's own OpenMP parallelism switched off for the calling
/// thread. Compiled with OpenMP (as the feral target is), Eigen splits a large matrix
/// product over omp_get_max_threads() threads unless it already runs inside an OpenMP
/// team. That would ignore Config::n_threads, nest thread teams inside feral's, and
/// change the product's blocking — and so its rounding — with the thread count. A
/// one-thread team whose thread count setting is 1 keeps Eigen serial; feral's
/// parallel_for inside still starts its own team of Config::n_threads threads.
/// (Defining EIGEN_DONT_PARALLELIZE for every translation unit does the same globally.)
template <class Body>
void without_eigen_threads(Body&& body) {
#if defined(_OPENMP) && !defined(EIGEN_DONT_PARALLELIZE)
    std::exception_ptr error;
#pragma omp parallel num_threads(1)
    {
        omp_set_num_threads(1);
        try {
            body();
        } catch (...) {
            error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
#else
    body();
#endif
}

}  // namespace detail

template <class T = float>
class StandardScaler {
    static_assert(std::is_floating_point_v<T>, "StandardScaler<T>: T must be float or double");

public:
    struct Config {
        bool with_mean = true;  ///< subtract the mean (scikit-learn: True)
        bool with_std = true;   ///< divide by the standard deviation (scikit-learn: True)
        int n_threads = 0;      ///< 0 = FERAL_NUM_THREADS or all cores
    };

    StandardScaler() = default;
    explicit StandardScaler(Config config) : config_(config) {}

    /// Learns mean_, var_ and scale_ of every column of X. Throws invalid_argument for
    /// empty or non-finite X. Refitting forgets the previous fit.
    StandardScaler& fit(ConstMatrixRef<T> X);
    /// (X - mean) / scale, each part only if enabled. X must have n_features_in() columns.
    [[nodiscard]] Matrix<T> transform(ConstMatrixRef<T> X) const;
    /// fit(X) then transform(X).
    Matrix<T> fit_transform(ConstMatrixRef<T> X) { return fit(X).transform(X); }
    /// Z * scale + mean: undoes transform.
    [[nodiscard]] Matrix<T> inverse_transform(ConstMatrixRef<T> Z) const;

    [[nodiscard]] bool is_fitted() const { return n_samples_seen_ > 0; }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] Index n_features_in() const { return mean_.size(); }
    [[nodiscard]] Index n_samples_seen() const { return n_samples_seen_; }
    /// Per-feature mean of the training data (computed even when with_mean is false).
    [[nodiscard]] const RowVector<T>& mean() const { check_fitted(is_fitted(), "StandardScaler"); return mean_; }
    /// Per-feature population variance (computed even when with_std is false).
    [[nodiscard]] const RowVector<T>& var() const { check_fitted(is_fitted(), "StandardScaler"); return var_; }
    /// Per-feature divisor: sqrt(var), 1 for constant features, all ones when with_std is false.
    [[nodiscard]] const RowVector<T>& scale() const { check_fitted(is_fitted(), "StandardScaler"); return scale_; }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const;
    static StandardScaler load(const std::filesystem::path& path);
    static std::string type_tag() { return std::string("StandardScaler<") + scalar_name<T>() + ">"; }

private:
    static constexpr Index kRowBlock = 512;
    static constexpr std::uint32_t kPayloadVersion = 1;

    template <class Map>
    Matrix<T> apply(ConstMatrixRef<T> X, const char* where, Map map) const;

    Config config_;
    Index n_samples_seen_ = 0;
    RowVector<T> mean_, var_, scale_;
};

// ---------------------------------------------------------------------------------

template <class T>
StandardScaler<T>& StandardScaler<T>::fit(ConstMatrixRef<T> X) {
    constexpr const char* where = "StandardScaler::fit";
    check_not_empty(X, where);
    check_finite(X, where);
    const Index n = X.rows(), d = X.cols();
    const detail::ColumnMoments moments = detail::column_moments<T>(X, nullptr, 1, config_.n_threads);
    const RowVector<double> mean = moments.mean.row(0);
    const RowVector<double> variance = moments.sum_squares.row(0) / static_cast<double>(n);
    const double eps = std::numeric_limits<double>::epsilon();
    RowVector<double> scale = RowVector<double>::Ones(d);
    if (config_.with_std)
        for (Index j = 0; j < d; ++j) {
            const double nd = static_cast<double>(n);
            const double bound = nd * eps * variance[j] + (nd * mean[j] * eps) * (nd * mean[j] * eps);
            if (variance[j] > bound) scale[j] = std::sqrt(variance[j]);
        }
    n_samples_seen_ = n;
    mean_ = mean.cast<T>();
    var_ = variance.cast<T>();
    scale_ = scale.cast<T>();
    return *this;
}

template <class T>
template <class Map>
Matrix<T> StandardScaler<T>::apply(ConstMatrixRef<T> X, const char* where, Map map) const {
    check_fitted(is_fitted(), "StandardScaler");
    check_not_empty(X, where);
    if (X.cols() != n_features_in())
        detail::fail(where, ": X has ", X.cols(), " features, but the model was fitted with ", n_features_in());
    check_finite(X, where);
    Matrix<T> out(X.rows(), X.cols());
    advise_huge_pages(out);  // written whole, once: see core/huge_pages.hpp
    const Index n = X.rows();
    parallel_for(0, (n + kRowBlock - 1) / kRowBlock, config_.n_threads, [&](std::int64_t b0, std::int64_t b1) {
        const Index r0 = b0 * kRowBlock, rows = std::min<Index>(b1 * kRowBlock, n) - r0;
        map(X.middleRows(r0, rows), out.middleRows(r0, rows));
    });
    return out;
}

template <class T>
Matrix<T> StandardScaler<T>::transform(ConstMatrixRef<T> X) const {
    check_fitted(is_fitted(), "StandardScaler");
    const RowVector<T> offset = config_.with_mean ? mean_ : RowVector<T>::Zero(n_features_in());
    const RowVector<T>& scale = scale_;
    return apply(X, "StandardScaler::transform", [&](const auto& in, auto out) {
        out.array() = (in.rowwise() - offset).array().rowwise() / scale.array();
    });
}

template <class T>
Matrix<T> StandardScaler<T>::inverse_transform(ConstMatrixRef<T> Z) const {
    check_fitted(is_fitted(), "StandardScaler");
    const RowVector<T> offset = config_.with_mean ? mean_ : RowVector<T>::Zero(n_features_in());
    const RowVector<T>& scale = scale_;
    return apply(Z, "StandardScaler::inverse_transform", [&](const auto& in, auto out) {
        out.array() = (in.array().rowwise() * scale.array()).rowwise() + offset.array();
    });
}

template <class T>
void StandardScaler<T>::save(const std::filesystem::path& path, Overwrite overwrite) const {
    check_fitted(is_fitted(), "StandardScaler");
    ByteWriter w;
    w.write(config_.with_mean);
    w.write(config_.with_std);
    w.write(config_.n_threads);
    w.write<std::int64_t>(n_samples_seen_);
    w.write_matrix(mean_);
    w.write_matrix(var_);
    w.write_matrix(scale_);
    write_container(path, type_tag(), kPayloadVersion, w.bytes(), overwrite);
}

template <class T>
StandardScaler<T> StandardScaler<T>::load(const std::filesystem::path& path) {
    const Container c = read_container(path, type_tag());
    if (c.payload_version() != kPayloadVersion)
        detail::fail<format_error>("'", path.string(), "': StandardScaler payload version ", c.payload_version(),
                                   ", this feral reads version ", kPayloadVersion);
    ByteReader r = c.reader();
    StandardScaler s;
    r.read(s.config_.with_mean);
    r.read(s.config_.with_std);
    r.read(s.config_.n_threads);
    s.n_samples_seen_ = static_cast<Index>(r.read<std::int64_t>());
    s.mean_ = r.read_matrix<RowVector<T>>();
    s.var_ = r.read_matrix<RowVector<T>>();
    s.scale_ = r.read_matrix<RowVector<T>>();
    r.expect_end();
    if (s.n_samples_seen_ <= 0 || s.mean_.size() == 0 || s.var_.size() != s.mean_.size() ||
        s.scale_.size() != s.mean_.size() || !(s.scale_.array() > T(0)).all())
        detail::fail<format_error>("'", path.string(), "': inconsistent StandardScaler state");
    return s;
}

}  // namespace feral
