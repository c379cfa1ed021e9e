// feral/vision/warp.hpp — affine warps of grayscale float images, with Keras'
// ImageDataGenerator semantics: rotation, shift, shear, zoom, horizontal flip.
//
// The mapping. An affine warp is an inverse map: output pixel (r, c) takes the
// input value at
//     row = m[0] * r + m[1] * c + m[2]
//     col = m[3] * r + m[4] * c + m[5]
// (AffineMatrix, exactly scipy.ndimage.affine_transform's matrix + offset). The
// value at a fractional position is bilinear in the four neighbouring pixels; a
// neighbour outside the image is replaced according to the fill mode:
//     FillMode::nearest   a a a a | a b c d | d d d d   (Keras' default)
//     FillMode::reflect   d c b a | a b c d | d c b a   (half-sample symmetric)
//     FillMode::constant  a position outside [0, H-1] x [0, W-1] gives `cval`
// These are scipy.ndimage's 'nearest', 'reflect' and 'constant' modes at order=1,
// which Keras' apply_affine_transform calls; tests compare against scipy fixtures.
//
// Keras' parameters (AffineParams) become a matrix with keras_affine_matrix():
//     M = Rotation(theta) * Shift(tx, ty) * Shear(shear) * Zoom(zx, zy)
// conjugated by a translation to Keras' centre o = (H / 2 + 0.5, W / 2 + 0.5)
// (Keras' own choice, kept for equality; the true pixel centre is (H-1)/2).
// theta and shear are in degrees, tx shifts rows (height_shift), ty columns; a
// horizontal flip is applied after the warp, as ImageDataGenerator does, and is
// folded into the same matrix (col -> W-1-col), so one pass does everything.
//
// Images are contiguous H x W float buffers (a grayscale Image<float>, or one row
// of an N x H*W batch matrix), so a batch can be warped row by row without copies:
//
//   feral::Random rng = feral::Random(seed).fork(sample_index);
//   feral::AugmentRanges ranges{.rotation_degrees = 10, .width_shift = 0.1,
//                               .height_shift = 0.1, .zoom = {0.9, 1.1},
//                               .horizontal_flip = true};
//   auto params = feral::random_affine_params(ranges, 48, 48, rng);
//   feral::apply_affine(batch.row(i).data(), out.row(i).data(), 48, 48, params);
//   // or a whole batch, in parallel, reproducible for a seed:
//   feral::augment_batch(batch, {1, 48, 48}, out, ranges, /*seed=*/epoch);
//
// Cost: one pass, about ten flops per output pixel; no allocation.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/data/image.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <utility>

namespace feral {

/// How pixels outside the source image are filled (scipy.ndimage / Keras modes).
enum class FillMode { nearest, constant, reflect };

/// Parses "nearest", "constant" or "reflect" (Keras' fill_mode strings).
inline FillMode parse_fill_mode(const std::string& name) {
    if (name == "nearest") return FillMode::nearest;
    if (name == "constant") return FillMode::constant;
    if (name == "reflect") return FillMode::reflect;
    detail::fail("parse_fill_mode: unknown fill mode '", name, "' (expected nearest, constant or reflect)");
}

inline const char* to_string(FillMode mode) {
    switch (mode) {
        case FillMode::nearest: return "nearest";
        case FillMode::constant: return "constant";
        case FillMode::reflect: return "reflect";
    }
    return "?";
}

/// Inverse map from output (row, col) to input (row, col):
/// in_row = m[0] r + m[1] c + m[2], in_col = m[3] r + m[4] c + m[5].
struct AffineMatrix {
    std::array<double, 6> m = {1, 0, 0, 0, 1, 0};
};

/// One Keras ImageDataGenerator transform (apply_affine_transform's arguments).
struct AffineParams {
    double rotation_degrees = 0;  ///< theta, counter-clockwise in Keras' (row, col) frame
    double shift_rows = 0;        ///< tx in pixels (height shift)
    double shift_cols = 0;        ///< ty in pixels (width shift)
    double shear_degrees = 0;     ///< shear angle
    double zoom_rows = 1;         ///< zx (> 1 shows less of the image)
    double zoom_cols = 1;         ///< zy
    bool flip_horizontal = false; ///< mirror columns after the warp
};

/// Ranges from which ImageDataGenerator draws a random transform.
struct AugmentRanges {
    double rotation_degrees = 0;        ///< theta ~ U(-r, r)
    double width_shift = 0;             ///< < 1: fraction of the width, >= 1: pixels; ty ~ U(-s, s)
    double height_shift = 0;            ///< same, for rows (tx)
    double shear_degrees = 0;           ///< shear ~ U(-s, s)
    std::array<double, 2> zoom = {1, 1};///< zx, zy ~ U(zoom[0], zoom[1]) independently
    bool horizontal_flip = false;       ///< flip with probability 1/2
};

namespace detail {

using Affine3 = std::array<std::array<double, 3>, 3>;

inline Affine3 affine_product(const Affine3& a, const Affine3& b) {
    Affine3 p{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) p[i][j] += a[i][k] * b[k][j];
    return p;
}

inline void check_warp_sizes(Index height, Index width, const char* where) {
    if (height <= 0 || width <= 0)
        fail(where, ": image size must be positive, got ", height, " x ", width);
}

/// Index of the neighbour `i` (maybe outside 0..n-1) under the fill mode (not constant).
inline Index border_index(Index i, Index n, FillMode mode) {
    if (i >= 0 && i < n) return i;
    if (mode == FillMode::nearest || n == 1) return i < 0 ? 0 : n - 1;
    // Half-sample symmetric reflection, period 2n: -1 -> 0, -2 -> 1, n -> n-1.
    const Index period = 2 * n;
    Index k = i % period;
    if (k < 0) k += period;
    return k < n ? k : period - 1 - k;
}

}  // namespace detail

/// The inverse-map matrix Keras' apply_affine_transform uses for `params` on an
/// H x W image (flip folded in).
inline AffineMatrix keras_affine_matrix(const AffineParams& params, Index height, Index width) {
    detail::check_warp_sizes(height, width, "keras_affine_matrix");
    constexpr double to_radians = std::numbers::pi / 180.0;
    const double theta = params.rotation_degrees * to_radians;
    const double shear = params.shear_degrees * to_radians;
    const detail::Affine3 rotation = {{{std::cos(theta), -std::sin(theta), 0}, {std::sin(theta), std::cos(theta), 0}, {0, 0, 1}}};
    const detail::Affine3 shift = {{{1, 0, params.shift_rows}, {0, 1, params.shift_cols}, {0, 0, 1}}};
    const detail::Affine3 shearing = {{{1, -std::sin(shear), 0}, {0, std::cos(shear), 0}, {0, 0, 1}}};
    const detail::Affine3 zoom = {{{params.zoom_rows, 0, 0}, {0, params.zoom_cols, 0}, {0, 0, 1}}};
    detail::Affine3 t = detail::affine_product(detail::affine_product(rotation, shift), detail::affine_product(shearing, zoom));
    // transform_matrix_offset_center: o = (H/2 + 0.5, W/2 + 0.5).
    const double o_row = static_cast<double>(height) / 2 + 0.5;
    const double o_col = static_cast<double>(width) / 2 + 0.5;
    const detail::Affine3 to_centre = {{{1, 0, o_row}, {0, 1, o_col}, {0, 0, 1}}};
    const detail::Affine3 from_centre = {{{1, 0, -o_row}, {0, 1, -o_col}, {0, 0, 1}}};
    t = detail::affine_product(detail::affine_product(to_centre, t), from_centre);
    if (params.flip_horizontal) {
        // The flipped output column c reads the warped column W-1-c.
        const detail::Affine3 flip = {{{1, 0, 0}, {0, -1, static_cast<double>(width - 1)}, {0, 0, 1}}};
        t = detail::affine_product(t, flip);
    }
    return AffineMatrix{{t[0][0], t[0][1], t[0][2], t[1][0], t[1][1], t[1][2]}};
}

/// Draws one random transform as ImageDataGenerator.get_random_transform does
/// (rotation, then height shift, width shift, shear, zoom, flip). Throws for
/// negative ranges or non-positive zoom.
inline AffineParams random_affine_params(const AugmentRanges& ranges, Index height, Index width, Random& rng) {
    if (ranges.rotation_degrees < 0 || ranges.width_shift < 0 || ranges.height_shift < 0 || ranges.shear_degrees < 0)
        detail::fail("random_affine_params: ranges must be >= 0 (rotation ", ranges.rotation_degrees, ", width_shift ",
                     ranges.width_shift, ", height_shift ", ranges.height_shift, ", shear ", ranges.shear_degrees, ")");
    if (!(ranges.zoom[0] > 0) || !(ranges.zoom[1] >= ranges.zoom[0]))
        detail::fail("random_affine_params: zoom range must satisfy 0 < low <= high, got [", ranges.zoom[0], ", ",
                     ranges.zoom[1], "]");
    auto symmetric = [&](double r) { return r > 0 ? rng.uniform(-r, r) : 0.0; };
    AffineParams p;
    p.rotation_degrees = symmetric(ranges.rotation_degrees);
    const double h_range = ranges.height_shift < 1 ? ranges.height_shift * static_cast<double>(height) : ranges.height_shift;
    const double w_range = ranges.width_shift < 1 ? ranges.width_shift * static_cast<double>(width) : ranges.width_shift;
    p.shift_rows = symmetric(h_range);
    p.shift_cols = symmetric(w_range);
    p.shear_degrees = symmetric(ranges.shear_degrees);
    if (ranges.zoom[0] != 1 || ranges.zoom[1] != 1) {
        p.zoom_rows = rng.uniform(ranges.zoom[0], ranges.zoom[1]);
        p.zoom_cols = rng.uniform(ranges.zoom[0], ranges.zoom[1]);
    }
    p.flip_horizontal = ranges.horizontal_flip && rng.bernoulli(0.5);
    return p;
}

/// Warps src (src_height x src_width) into dst (dst_height x dst_width), both
/// contiguous row-major float buffers that must not overlap. Bilinear
/// interpolation; see the header comment for the fill modes.
inline void warp_affine(const float* src, Index src_height, Index src_width, float* dst, Index dst_height,
                        Index dst_width, const AffineMatrix& matrix, FillMode mode = FillMode::nearest,
                        float cval = 0.0f) {
    detail::check_warp_sizes(src_height, src_width, "warp_affine (source)");
    detail::check_warp_sizes(dst_height, dst_width, "warp_affine (destination)");
    if (src == nullptr || dst == nullptr) detail::fail("warp_affine: null image buffer");
    if (dst < src + src_height * src_width && src < dst + dst_height * dst_width)
        detail::fail("warp_affine: source and destination buffers overlap (warping in place is not supported)");
    for (double v : matrix.m)
        if (!std::isfinite(v)) detail::fail("warp_affine: the affine matrix contains ", v);
    const auto& m = matrix.m;
    const double max_row = static_cast<double>(src_height - 1);
    const double max_col = static_cast<double>(src_width - 1);
    for (Index r = 0; r < dst_height; ++r) {
        float* out = dst + r * dst_width;
        const double row0 = m[0] * static_cast<double>(r) + m[2];
        const double col0 = m[3] * static_cast<double>(r) + m[5];
        for (Index c = 0; c < dst_width; ++c) {
            const double y = row0 + m[1] * static_cast<double>(c);
            const double x = col0 + m[4] * static_cast<double>(c);
            const double yf = std::floor(y);
            const double xf = std::floor(x);
            const auto wy = static_cast<float>(y - yf);
            const auto wx = static_cast<float>(x - xf);
            const auto y0 = static_cast<Index>(yf);
            const auto x0 = static_cast<Index>(xf);
            if (y0 >= 0 && x0 >= 0 && y0 + 1 < src_height && x0 + 1 < src_width) {
                // Interior: all four neighbours exist.
                const float* p = src + y0 * src_width + x0;
                const float top = p[0] + wx * (p[1] - p[0]);
                const float bottom = p[src_width] + wx * (p[src_width + 1] - p[src_width]);
                out[c] = top + wy * (bottom - top);
                continue;
            }
            if (mode == FillMode::constant) {
                if (!(y >= 0 && y <= max_row && x >= 0 && x <= max_col)) {
                    out[c] = cval;
                    continue;
                }
            }
            const FillMode index_mode = mode == FillMode::constant ? FillMode::nearest : mode;
            const Index ya = detail::border_index(y0, src_height, index_mode);
            const Index yb = detail::border_index(y0 + 1, src_height, index_mode);
            const Index xa = detail::border_index(x0, src_width, index_mode);
            const Index xb = detail::border_index(x0 + 1, src_width, index_mode);
            const float* row_a = src + ya * src_width;
            const float* row_b = src + yb * src_width;
            const float top = row_a[xa] + wx * (row_a[xb] - row_a[xa]);
            const float bottom = row_b[xa] + wx * (row_b[xb] - row_b[xa]);
            out[c] = top + wy * (bottom - top);
        }
    }
}

/// Same-size warp of an H x W buffer.
inline void warp_affine(const float* src, float* dst, Index height, Index width, const AffineMatrix& matrix,
                        FillMode mode = FillMode::nearest, float cval = 0.0f) {
    warp_affine(src, height, width, dst, height, width, matrix, mode, cval);
}

/// Keras' apply_affine_transform (+ flip) from src into dst (both H x W, distinct).
inline void apply_affine(const float* src, float* dst, Index height, Index width, const AffineParams& params,
                         FillMode mode = FillMode::nearest, float cval = 0.0f) {
    warp_affine(src, dst, height, width, keras_affine_matrix(params, height, width), mode, cval);
}

/// Image versions (grayscale only): return the warped image.
inline Image<float> warp_affine(const Image<float>& image, const AffineMatrix& matrix, FillMode mode = FillMode::nearest,
                                float cval = 0.0f) {
    if (image.channels() != 1)
        detail::fail("warp_affine: expected a grayscale image, got ", image.channels(), " channels");
    Image<float> out(image.height(), image.width(), 1);
    warp_affine(image.data(), out.data(), image.height(), image.width(), matrix, mode, cval);
    return out;
}

inline Image<float> apply_affine(const Image<float>& image, const AffineParams& params, FillMode mode = FillMode::nearest,
                                 float cval = 0.0f) {
    if (image.channels() != 1)
        detail::fail("apply_affine: expected a grayscale image, got ", image.channels(), " channels");
    return warp_affine(image, keras_affine_matrix(params, image.height(), image.width()), mode, cval);
}

/// Rotation by `degrees` about Keras' centre (positive = counter-clockwise on screen).
inline AffineMatrix rotation_matrix(double degrees, Index height, Index width) {
    AffineParams p;
    p.rotation_degrees = degrees;
    return keras_affine_matrix(p, height, width);
}

/// Shift: output (r, c) shows input (r + rows, c + cols) (Keras' tx, ty sign).
inline AffineMatrix shift_matrix(double rows, double cols) { return AffineMatrix{{1, 0, rows, 0, 1, cols}}; }

/// Zoom about Keras' centre; factors > 1 show less of the image (Keras' zx, zy).
inline AffineMatrix zoom_matrix(double zoom_rows, double zoom_cols, Index height, Index width) {
    AffineParams p;
    p.zoom_rows = zoom_rows;
    p.zoom_cols = zoom_cols;
    return keras_affine_matrix(p, height, width);
}

/// Shear by `degrees` about Keras' centre.
inline AffineMatrix shear_matrix(double degrees, Index height, Index width) {
    AffineParams p;
    p.shear_degrees = degrees;
    return keras_affine_matrix(p, height, width);
}

/// Augments every row of `images` (N x H*W, one-channel images of `shape`) into the
/// same row of `out` (resized to N x H*W): row i gets random_affine_params drawn from
/// Random(seed).fork(i), so the result depends on (seed, i) only, never on the thread
/// count. Parallel over rows (n_threads, 0 = FERAL_NUM_THREADS or all cores).
inline void augment_batch(const Eigen::Ref<const Matrix<float>>& images, const ImageShape& shape, Matrix<float>& out,
                          const AugmentRanges& ranges, std::uint64_t seed, FillMode mode = FillMode::nearest,
                          float cval = 0.0f, int n_threads = 0) {
    if (shape.channels != 1) detail::fail("augment_batch: expected one-channel images, shape is ", to_string(shape));
    if (images.cols() != shape.size())
        detail::fail("augment_batch: images have ", images.cols(), " values each, shape ", to_string(shape), " needs ",
                     shape.size());
    detail::check_warp_sizes(shape.height, shape.width, "augment_batch");
    if (out.data() == images.data()) detail::fail("augment_batch: `out` must not be the input matrix");
    {
        Random probe(seed);  // validates the ranges once, before any thread starts
        (void)random_affine_params(ranges, shape.height, shape.width, probe);
    }
    out.resize(images.rows(), images.cols());
    const Random root(seed);
    parallel_for(0, images.rows(), n_threads, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            Random rng = root.fork(static_cast<std::uint64_t>(i));
            const AffineParams params = random_affine_params(ranges, shape.height, shape.width, rng);
            apply_affine(images.row(i).data(), out.row(i).data(), shape.height, shape.width, params, mode, cval);
        }
    });
}

/// Mirror image of a grayscale H x W buffer (columns reversed); src and dst may be equal.
inline void flip_horizontal(const float* src, float* dst, Index height, Index width) {
    detail::check_warp_sizes(height, width, "flip_horizontal");
    for (Index r = 0; r < height; ++r) {
        const float* in = src + r * width;
        float* out = dst + r * width;
        if (in == out) {
            for (Index a = 0, b = width - 1; a < b; ++a, --b) std::swap(out[a], out[b]);
        } else {
            for (Index c = 0; c < width; ++c) out[c] = in[width - 1 - c];
        }
    }
}

}  // namespace feral
