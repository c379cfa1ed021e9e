// feral/core/types.hpp — the data types shared by every module.
//
// Layout decisions (made once, for the cache):
//  * Samples are rows. `Matrix<T>` is row-major, so one sample's features are
//    contiguous — what distance kernels, tree splits and SIMD loops read.
//  * A batch of images is an N x (C*H*W) row-major matrix: row i is image i in
//    CHW order (channel planes, each plane row by row). With C = 1 this is exactly
//    a flattened grayscale image, so a data set of 48x48 faces *is* its pixel
//    matrix and no copy is needed between "features" and "images".
//    `ImageShape` carries C, H, W beside the matrix.
//  * Labels are class indices 0..k-1 in an `Eigen::VectorXi`.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <string>

namespace feral {

using Index = Eigen::Index;

/// Row-major dense matrix: rows are samples, columns features.
template <class T = float>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Column vector (one value per sample, or a parameter vector).
template <class T = float>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Row vector (one value per feature).
template <class T = float>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

/// Class labels, 0-based.
using Labels = Eigen::VectorXi;

/// Pixel matrix of 8-bit images: one flattened image per row.
using PixelMatrix = Matrix<std::uint8_t>;

/// Read-only views accepted by public entry points (no copy when layouts match).
template <class T = float>
using ConstMatrixRef = Eigen::Ref<const Matrix<T>>;
template <class T = float>
using ConstVectorRef = Eigen::Ref<const Vector<T>>;
using ConstLabelsRef = Eigen::Ref<const Labels>;

/// Shape of one image in a batch: channels, height, width (CHW order).
struct ImageShape {
    Index channels = 1;
    Index height = 0;
    Index width = 0;

    [[nodiscard]] constexpr Index size() const { return channels * height * width; }
    friend constexpr bool operator==(const ImageShape&, const ImageShape&) = default;
};

inline std::string to_string(const ImageShape& s) {
    return std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width);
}

}  // namespace feral
