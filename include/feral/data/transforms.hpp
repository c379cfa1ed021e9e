// feral/data/transforms.hpp — turning 8-bit images into model input.
//
//   to_float<T>(pixels, PixelScale::unit)   N x D matrix of T, each pixel / 255 (in [0, 1])
//   to_float<T>(pixels, PixelScale::raw)    the same without scaling (0..255)
//   GlobalStandardizer<T>                   one mean and one standard deviation over *all*
//                                           training pixels; x -> (x - mean) / std
//   feature_mean_std / standardize_features per-feature (per-pixel) standardisation in
//                                           functional form (the estimator is
//                                           features/standard_scaler.hpp)
//   flatten / image_at                      images <-> rows of a PixelMatrix
//
// Fit statistics on the training set only and apply them to validation and test data:
//   auto X_train = feral::to_float(train.pixels), X_test = feral::to_float(test.pixels);
//   feral::GlobalStandardizer<> scaler;
//   X_train = scaler.fit_transform(X_train);
//   X_test = scaler.transform(X_test);
//
// Standard deviations are population ones (divide by N, as numpy's std and scikit-learn's
// StandardScaler), accumulated in double; a zero deviation is replaced by 1 (a constant
// input is only centred), as scikit-learn does.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/huge_pages.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/data/dataset.hpp"
#include "feral/data/image.hpp"
#include "feral/detail/column_moments.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace feral {

/// How to_float maps 8-bit pixel values.
enum class PixelScale {
    unit,  ///< value / 255, in [0, 1] (what Keras' rescale=1/255 and ToTensor do)
    raw,   ///< value as it is, 0..255
};

/// 8-bit pixels as a floating-point matrix (same shape).
template <class T = float>
[[nodiscard]] Matrix<T> to_float(const Eigen::Ref<const PixelMatrix>& pixels, PixelScale scale = PixelScale::unit) {
    Matrix<T> out(pixels.rows(), pixels.cols());
    advise_huge_pages(out);  // written whole, once: see core/huge_pages.hpp
    if (scale == PixelScale::unit)
        out.noalias() = pixels.template cast<T>() * (T(1) / T(255));
    else
        out.noalias() = pixels.template cast<T>();
    return out;
}

/// The pixels of a data set as floats (see to_float above).
template <class T = float>
[[nodiscard]] Matrix<T> to_float(const Dataset& data, PixelScale scale = PixelScale::unit) {
    return to_float<T>(data.pixels, scale);
}

/// Standardises with one mean and one standard deviation shared by every feature (pixel):
/// x' = (x - mean) / std, both learned from all values of the training matrix.
template <class T = float>
class GlobalStandardizer {
public:
    using scalar_type = T;

    struct Config {
        int n_threads = 0;  ///< threads for fit, 0 = FERAL_NUM_THREADS or all cores (same result for any)
    };

    GlobalStandardizer() = default;
    explicit GlobalStandardizer(Config config) : n_threads_(config.n_threads) {}

    /// Learns the mean and the (population) standard deviation of all values of X.
    /// throws: invalid_argument for empty X or NaN/Inf values.
    GlobalStandardizer& fit(ConstMatrixRef<T> X) {
        check_not_empty(X, "GlobalStandardizer::fit");
        check_finite(X, "GlobalStandardizer::fit");
        // Each column's mean and sum of squared deviations (two passes in double,
        // vectorised down the columns, parallel over fixed row parts: see
        // detail/column_moments.hpp), then those of all values: every column has the same
        // count, so the mean is the columns' mean, and each column adds its own squares
        // plus rows * (its mean - the mean)^2.
        const detail::ColumnMoments columns = detail::column_moments<T>(X, nullptr, 1, n_threads_);
        const double mean = columns.mean.row(0).mean();
        const double squares = columns.sum_squares.row(0).sum() +
                               static_cast<double>(X.rows()) * (columns.mean.row(0).array() - mean).square().sum();
        const double n = static_cast<double>(X.rows()) * static_cast<double>(X.cols());
        const double deviation = std::sqrt(squares / n);
        mean_ = mean;
        std_ = deviation > 0.0 ? deviation : 1.0;
        fitted_ = true;
        return *this;
    }

    /// (X - mean) / std. throws: not_fitted before fit; invalid_argument for NaN/Inf.
    [[nodiscard]] Matrix<T> transform(ConstMatrixRef<T> X) const {
        check_fitted(fitted_, "GlobalStandardizer");
        check_finite(X, "GlobalStandardizer::transform");
        Matrix<T> out(X.rows(), X.cols());
        advise_huge_pages(out);
        out.array() = (X.array() - static_cast<T>(mean_)) * static_cast<T>(1.0 / std_);
        return out;
    }

    [[nodiscard]] Matrix<T> fit_transform(ConstMatrixRef<T> X) { return fit(X).transform(X); }

    /// X * std + mean.
    [[nodiscard]] Matrix<T> inverse_transform(ConstMatrixRef<T> X) const {
        check_fitted(fitted_, "GlobalStandardizer");
        Matrix<T> out(X.rows(), X.cols());
        advise_huge_pages(out);
        out.array() = X.array() * static_cast<T>(std_) + static_cast<T>(mean_);
        return out;
    }

    [[nodiscard]] double mean() const { return mean_; }
    [[nodiscard]] double stddev() const { return std_; }  ///< population standard deviation (1 if it was 0)
    [[nodiscard]] bool is_fitted() const { return fitted_; }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        check_fitted(fitted_, "GlobalStandardizer");
        ByteWriter w;
        w.write(mean_);
        w.write(std_);
        write_container(path, type_tag(), 1, w.bytes(), overwrite);
    }

    static GlobalStandardizer load(const std::filesystem::path& path) {
        const auto c = read_container(path, type_tag());
        ByteReader r = c.reader();
        GlobalStandardizer s;
        r.read(s.mean_);
        r.read(s.std_);
        r.expect_end();
        if (!std::isfinite(s.mean_) || !(s.std_ > 0.0) || !std::isfinite(s.std_))
            detail::fail<format_error>(path.string(), ": corrupt GlobalStandardizer (mean ", s.mean_, ", std ", s.std_, ")");
        s.fitted_ = true;
        return s;
    }

private:
    static std::string type_tag() { return std::string("GlobalStandardizer<") + (sizeof(T) == 4 ? "float" : "double") + ">"; }

    int n_threads_ = 0;
    double mean_ = 0.0;
    double std_ = 1.0;
    bool fitted_ = false;
};

/// Per-feature statistics for standardize_features.
template <class T = float>
struct FeatureScaling {
    RowVector<T> mean;   ///< mean of each column
    RowVector<T> scale;  ///< population standard deviation of each column, 1 where it is 0
};

/// Mean and standard deviation of each column of X (accumulated in double; n_threads as
/// everywhere, 0 = FERAL_NUM_THREADS or all cores, same result for any).
/// throws: invalid_argument for empty X or NaN/Inf values.
template <class T = float>
[[nodiscard]] FeatureScaling<T> feature_mean_std(ConstMatrixRef<T> X, int n_threads = 0) {
    check_not_empty(X, "feature_mean_std");
    check_finite(X, "feature_mean_std");
    const detail::ColumnMoments columns = detail::column_moments<T>(X, nullptr, 1, n_threads);
    const double n = static_cast<double>(X.rows());
    FeatureScaling<T> stats{RowVector<T>(X.cols()), RowVector<T>(X.cols())};
    for (Index j = 0; j < X.cols(); ++j) {
        const double deviation = std::sqrt(columns.sum_squares(0, j) / n);
        stats.mean[j] = static_cast<T>(columns.mean(0, j));
        stats.scale[j] = static_cast<T>(deviation > 0.0 ? deviation : 1.0);
    }
    return stats;
}

/// (X - mean) / scale, column by column.
/// throws: invalid_argument when X's column count differs from the statistics'.
template <class T = float>
[[nodiscard]] Matrix<T> standardize_features(ConstMatrixRef<T> X, const FeatureScaling<T>& stats) {
    if (X.cols() != stats.mean.size() || X.cols() != stats.scale.size())
        detail::fail("standardize_features: X has ", X.cols(), " features, but the statistics have ", stats.mean.size());
    const RowVector<T> inverse = stats.scale.cwiseInverse();
    Matrix<T> out(X.rows(), X.cols());
    advise_huge_pages(out);
    for (Index i = 0; i < X.rows(); ++i) out.row(i) = (X.row(i) - stats.mean).cwiseProduct(inverse);
    return out;
}

/// Images of equal size as the rows of a PixelMatrix (each row the image's interleaved
/// values: for grayscale, row by row).
/// throws: invalid_argument for an empty list or images of different sizes (naming the index).
[[nodiscard]] inline PixelMatrix flatten(const std::vector<Image<std::uint8_t>>& images) {
    if (images.empty()) detail::fail("flatten: no images");
    const Index size = images[0].size();
    PixelMatrix out(static_cast<Index>(images.size()), size);
    for (std::size_t i = 0; i < images.size(); ++i) {
        const auto& img = images[i];
        if (img.height() != images[0].height() || img.width() != images[0].width() || img.channels() != images[0].channels())
            detail::fail("flatten: image ", i, " is ", img.height(), " x ", img.width(), " x ", img.channels(),
                         ", image 0 is ", images[0].height(), " x ", images[0].width(), " x ", images[0].channels());
        std::memcpy(out.row(static_cast<Index>(i)).data(), img.data(), static_cast<std::size_t>(size));
    }
    return out;
}

/// Image `i` of a grayscale data set (shape channels must be 1).
[[nodiscard]] inline Image<std::uint8_t> image_at(const Dataset& data, Index i) {
    if (i < 0 || i >= data.size()) detail::fail("image_at: index ", i, " is outside 0..", data.size() - 1);
    if (data.shape.channels != 1) detail::fail("image_at: the data set has ", data.shape.channels, " channels, expected 1");
    if (data.pixels.cols() != data.shape.size())
        detail::fail("image_at: rows have ", data.pixels.cols(), " values, shape ", to_string(data.shape), " needs ", data.shape.size());
    const std::uint8_t* row = data.pixels.row(i).data();
    return Image<std::uint8_t>(data.shape.height, data.shape.width, 1,
                               std::vector<std::uint8_t>(row, row + data.shape.size()));
}

}  // namespace feral
