// feral/vision/integral_image.hpp — summed-area tables (integral images) of
// grayscale images: plain, squared, and 45-degree tilted (for Haar features).
//
// Layout (OpenCV's cv::integral): an H x W image gives (H+1) x (W+1) tables with
// a zero first row and column, so the sum over rows [y0, y1) and columns [x0, x1) is
//     S(y1, x1) - S(y0, x1) - S(y1, x0) + S(y0, x0)            (rect_sum below)
//   sum     S(Y, X)  = sum of I(y, x)   for y < Y, x < X
//   squared Q(Y, X)  = sum of I(y, x)^2 for y < Y, x < X
//   tilted  T(Y, X)  = sum of I(y, x)   for y <= Y-1 and |x - (X-1)| <= (Y-1) - y
//                      (the triangle above pixel (Y-1, X-1), opening upwards; Lienhart's
//                      rotated summed-area table), by the recurrence
//                      T(Y,X) = T(Y-1,X-1) + T(Y-1,X+1) - T(Y-2,X) + I(Y-1,X-1) + I(Y-2,X-1)
// Sums of 8-bit images are exact in 64-bit integers. Tests compare with cv2.integral3.
//
//   auto sum = feral::integral(image);                  // Matrix<std::int64_t>
//   std::int64_t s = feral::rect_sum(sum, y, x, h, w); // h x w box at (y, x)
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"
#include "feral/data/image.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace feral {

namespace detail {
inline void check_integral_input(const Image<std::uint8_t>& image, std::string_view where) {
    if (image.channels() != 1) fail(where, ": expected a grayscale image, got ", image.channels(), " channels");
    if (image.height() == 0 || image.width() == 0)
        fail(where, ": empty image (", image.height(), " x ", image.width(), ")");
}
}  // namespace detail

/// (H+1) x (W+1) table of sums: S(Y, X) = sum of pixels above and left of (Y, X).
inline Matrix<std::int64_t> integral(const Image<std::uint8_t>& image) {
    detail::check_integral_input(image, "integral");
    const Index H = image.height(), W = image.width();
    Matrix<std::int64_t> sum = Matrix<std::int64_t>::Zero(H + 1, W + 1);
    for (Index y = 0; y < H; ++y) {
        const std::uint8_t* row = image.data() + y * W;
        std::int64_t running = 0;
        for (Index x = 0; x < W; ++x) {
            running += row[x];
            sum(y + 1, x + 1) = sum(y, x + 1) + running;
        }
    }
    return sum;
}

/// (H+1) x (W+1) table of sums of squared pixels.
inline Matrix<std::int64_t> integral_squared(const Image<std::uint8_t>& image) {
    detail::check_integral_input(image, "integral_squared");
    const Index H = image.height(), W = image.width();
    Matrix<std::int64_t> sum = Matrix<std::int64_t>::Zero(H + 1, W + 1);
    for (Index y = 0; y < H; ++y) {
        const std::uint8_t* row = image.data() + y * W;
        std::int64_t running = 0;
        for (Index x = 0; x < W; ++x) {
            running += static_cast<std::int64_t>(row[x]) * row[x];
            sum(y + 1, x + 1) = sum(y, x + 1) + running;
        }
    }
    return sum;
}

/// (H+1) x (W+1) rotated (45 degree) summed-area table, OpenCV's `tilted` output.
inline Matrix<std::int64_t> integral_tilted(const Image<std::uint8_t>& image) {
    detail::check_integral_input(image, "integral_tilted");
    const Index H = image.height(), W = image.width();
    // The recurrence reads columns X-1 and X+1 of the previous row; triangles whose
    // apex lies outside the image still cover pixels, so rows are computed on
    // columns extended by H on each side and cropped at the end.
    const Index pad = H + 1;
    const Index ext = W + 1 + 2 * pad;
    std::vector<std::int64_t> previous(static_cast<std::size_t>(ext), 0), before(static_cast<std::size_t>(ext), 0),
        current(static_cast<std::size_t>(ext), 0);
    auto pixel = [&](Index y, Index x) -> std::int64_t {
        return (y >= 0 && y < H && x >= 0 && x < W) ? image.data()[y * W + x] : 0;
    };
    Matrix<std::int64_t> tilted = Matrix<std::int64_t>::Zero(H + 1, W + 1);
    // Row Y = 0 is all zero; `previous` holds row Y-1, `before` row Y-2.
    for (Index Y = 1; Y <= H; ++Y) {
        for (Index e = 0; e < ext; ++e) {
            const Index X = e - pad;
            const std::int64_t left = e > 0 ? previous[static_cast<std::size_t>(e - 1)] : 0;
            const std::int64_t right = e + 1 < ext ? previous[static_cast<std::size_t>(e + 1)] : 0;
            current[static_cast<std::size_t>(e)] =
                left + right - before[static_cast<std::size_t>(e)] + pixel(Y - 1, X - 1) + pixel(Y - 2, X - 1);
        }
        for (Index X = 0; X <= W; ++X) tilted(Y, X) = current[static_cast<std::size_t>(X + pad)];
        before.swap(previous);
        previous.swap(current);
    }
    return tilted;
}

/// Sum of the h x w box whose top-left pixel is (y, x), from an integral table.
template <class T>
T rect_sum(const Matrix<T>& table, Index y, Index x, Index h, Index w) {
    return table(y + h, x + w) - table(y, x + w) - table(y + h, x) + table(y, x);
}

}  // namespace feral
