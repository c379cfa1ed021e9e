// feral/vision/resize.hpp — resizing, cropping and flipping images (any channel count).
//
// resize(image, height, width, Interpolation::bilinear) reproduces OpenCV 4.6's
// cv::resize(INTER_LINEAR) bit for bit on 8-bit images (tests compare against
// cv2.resize fixtures), because the Haar-cascade detector must see the same pyramid:
//  * output pixel dx samples source position fx = (dx + 0.5) * (W_in / W_out) - 0.5;
//    sx = floor(fx), a = fx - sx; positions left of 0 clamp to (0, a = 0), at or
//    beyond the last pixel to (W_in - 1, a = 0); rows likewise, with row indices
//    clamped to the image;
//  * 8-bit arithmetic is fixed point: weights round(a * 2048) as shorts, the
//    horizontal pass is exact in int, the vertical pass is OpenCV's
//    ((b0 * (S0 >> 4)) >> 16) + ((b1 * (S1 >> 4)) >> 16) + 2) >> 2;
//  * halving both sides exactly (2x) uses the 2x2 box average, as OpenCV does.
// Float images use the same coordinates with float weights.
//
// Interpolation::area averages the source box under each output pixel, weighting
// partly covered pixels by their covered fraction (OpenCV's INTER_AREA for
// shrinking); enlarging with area falls back to OpenCV's area-mode bilinear weights.
//
//   auto small = feral::resize(face, 24, 24);                             // bilinear
//   auto thumb = feral::resize(photo, 100, 150, feral::Interpolation::area);
//   auto patch = feral::crop(photo, y, x, 48, 48);
//   auto mirror = feral::flip_horizontal(face);
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"
#include "feral/data/image.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

namespace feral {

/// bilinear: cv::INTER_LINEAR; bilinear_exact: cv::INTER_LINEAR_EXACT (8.8 fixed-point
/// weights, what OpenCV's cascade detector uses); area: cv::INTER_AREA.
enum class Interpolation { bilinear, bilinear_exact, area };

namespace detail {

template <class Pixel>
void check_resize(const Image<Pixel>& image, Index height, Index width, std::string_view where) {
    if (image.empty() || image.height() == 0 || image.width() == 0)
        fail(where, ": empty source image (", image.height(), " x ", image.width(), ")");
    if (height <= 0 || width <= 0) fail(where, ": target size must be positive, got ", height, " x ", width);
}

/// Source index and weight of the bilinear sample for each output coordinate (OpenCV's xofs/alpha).
struct LinearTaps {
    std::vector<Index> index;  // first of the two source pixels
    std::vector<float> weight; // weight of the second one
    Index first_clamped = 0;   // outputs at or beyond this read only the last pixel (OpenCV's xmax)
};

/// Columns clamp both the index and the weight at the borders; rows (clamp_weights =
/// false) keep OpenCV's raw index and weight and clamp only the rows they read.
inline LinearTaps linear_taps(Index in, Index out, bool area_mode, bool clamp_weights = true) {
    LinearTaps taps;
    taps.index.resize(static_cast<std::size_t>(out));
    taps.weight.resize(static_cast<std::size_t>(out));
    taps.first_clamped = out;
    const double inv_scale = static_cast<double>(out) / static_cast<double>(in);
    const double scale = 1.0 / inv_scale;
    for (Index d = 0; d < out; ++d) {
        Index s;
        float f;
        if (!area_mode) {
            f = static_cast<float>((static_cast<double>(d) + 0.5) * scale - 0.5);
            s = static_cast<Index>(std::floor(f));
            f -= static_cast<float>(s);
        } else {
            s = static_cast<Index>(std::floor(static_cast<double>(d) * scale));
            f = static_cast<float>(static_cast<double>(d + 1) - static_cast<double>(s + 1) * inv_scale);
            f = f <= 0 ? 0.0f : f - std::floor(f);
        }
        if (!clamp_weights) {
            taps.index[static_cast<std::size_t>(d)] = s;
            taps.weight[static_cast<std::size_t>(d)] = f;
            continue;
        }
        if (s < 0) {
            f = 0;
            s = 0;
        }
        if (s + 1 >= in) {
            taps.first_clamped = std::min(taps.first_clamped, d);
            if (s >= in - 1) {
                f = 0;
                s = in - 1;
            }
        }
        taps.index[static_cast<std::size_t>(d)] = s;
        taps.weight[static_cast<std::size_t>(d)] = f;
    }
    return taps;
}

inline std::int16_t fixed_weight(float w) {
    // saturate_cast<short>(w * 2048): round half to even (lrint), as OpenCV's cvRound.
    return static_cast<std::int16_t>(std::lrint(w * 2048.0f));
}

/// OpenCV's INTER_LINEAR for 8-bit interleaved images.
inline void resize_bilinear_u8(const std::uint8_t* src, Index in_h, Index in_w, Index channels, std::uint8_t* dst,
                               Index out_h, Index out_w, bool area_mode = false) {
    const LinearTaps xt = linear_taps(in_w, out_w, area_mode);
    const LinearTaps yt = linear_taps(in_h, out_h, area_mode, false);
    const Index row_len = out_w * channels;
    std::vector<std::int32_t> row0(static_cast<std::size_t>(row_len)), row1(static_cast<std::size_t>(row_len));
    std::vector<std::int16_t> a0(static_cast<std::size_t>(out_w)), a1(static_cast<std::size_t>(out_w));
    for (Index d = 0; d < out_w; ++d) {
        a0[static_cast<std::size_t>(d)] = fixed_weight(1.0f - xt.weight[static_cast<std::size_t>(d)]);
        a1[static_cast<std::size_t>(d)] = fixed_weight(xt.weight[static_cast<std::size_t>(d)]);
    }
    auto horizontal = [&](Index sy, std::vector<std::int32_t>& out) {
        const std::uint8_t* s = src + sy * in_w * channels;
        for (Index d = 0; d < out_w; ++d) {
            const Index sx = xt.index[static_cast<std::size_t>(d)] * channels;
            for (Index c = 0; c < channels; ++c) {
                std::int32_t v;
                if (d < xt.first_clamped)
                    v = s[sx + c] * a0[static_cast<std::size_t>(d)] + s[sx + channels + c] * a1[static_cast<std::size_t>(d)];
                else
                    v = s[sx + c] * 2048;
                out[static_cast<std::size_t>(d * channels + c)] = v;
            }
        }
    };
    Index have0 = -1, have1 = -1;  // source rows currently in row0 / row1
    for (Index dy = 0; dy < out_h; ++dy) {
        const Index sy = yt.index[static_cast<std::size_t>(dy)];
        const Index r0 = std::clamp<Index>(sy, 0, in_h - 1);
        const Index r1 = std::clamp<Index>(sy + 1, 0, in_h - 1);
        if (have0 != r0) {
            if (have1 == r0) {
                row0.swap(row1);
                std::swap(have0, have1);
            } else {
                horizontal(r0, row0);
                have0 = r0;
            }
        }
        if (have1 != r1) {
            if (r1 == r0) {
                row1 = row0;
            } else {
                horizontal(r1, row1);
            }
            have1 = r1;
        }
        const std::int32_t b0 = fixed_weight(1.0f - yt.weight[static_cast<std::size_t>(dy)]);
        const std::int32_t b1 = fixed_weight(yt.weight[static_cast<std::size_t>(dy)]);
        std::uint8_t* out = dst + dy * row_len;
        for (Index i = 0; i < row_len; ++i) {
            const std::int32_t v = (((b0 * (row0[static_cast<std::size_t>(i)] >> 4)) >> 16) +
                                    ((b1 * (row1[static_cast<std::size_t>(i)] >> 4)) >> 16) + 2) >> 2;
            out[i] = static_cast<std::uint8_t>(std::clamp(v, 0, 255));
        }
    }
}

/// OpenCV's INTER_LINEAR_EXACT (resize_bitExact) for 8-bit images: weights are
/// round(256 * fraction) in 8.8 fixed point, rows are c0 * s0 + c1 * s1 (8 fractional
/// bits, exact), columns combine rows with 16 fractional bits and round once;
/// outputs left of / beyond the source edge copy the edge pixel's row value.
inline void resize_bilinear_exact_u8(const std::uint8_t* src, Index in_h, Index in_w, Index channels, std::uint8_t* dst,
                                     Index out_h, Index out_w) {
    struct Taps {
        std::vector<Index> offset;
        std::vector<std::uint32_t> c0, c1;
        Index min = 0, max = 0;  // [min, max): interpolated; before: first pixel; after: last pixel
    };
    auto taps = [](Index in, Index out) {
        Taps t;
        t.offset.assign(static_cast<std::size_t>(out), 0);
        t.c0.assign(static_cast<std::size_t>(out), 256);
        t.c1.assign(static_cast<std::size_t>(out), 0);
        t.min = 0;
        t.max = out;
        const double scale = 1.0 / (static_cast<double>(out) / static_cast<double>(in));
        for (Index d = 0; d < out; ++d) {
            const double f = scale * (static_cast<double>(d) + 0.5) - 0.5;
            const auto i = static_cast<Index>(std::floor(f));
            if (i >= 0 && in > 1) {
                if (i < in - 1) {
                    t.offset[static_cast<std::size_t>(d)] = i;
                    const auto c1 = static_cast<std::uint32_t>(std::lrint((f - static_cast<double>(i)) * 256.0));
                    t.c1[static_cast<std::size_t>(d)] = c1;
                    t.c0[static_cast<std::size_t>(d)] = 256 - c1;
                } else {
                    t.offset[static_cast<std::size_t>(d)] = in - 1;
                    t.max = std::min(t.max, d);
                }
            } else {
                t.min = std::max(t.min, d + 1);
            }
        }
        return t;
    };
    const Taps xt = taps(in_w, out_w), yt = taps(in_h, out_h);
    const Index row_len = out_w * channels;
    auto horizontal = [&](Index sy, std::uint32_t* out) {
        const std::uint8_t* s = src + sy * in_w * channels;
        for (Index d = 0; d < out_w; ++d)
            for (Index c = 0; c < channels; ++c) {
                std::uint32_t v;
                if (d < xt.min) v = static_cast<std::uint32_t>(s[c]) << 8;
                else if (d >= xt.max) v = static_cast<std::uint32_t>(s[(in_w - 1) * channels + c]) << 8;
                else {
                    const Index o = xt.offset[static_cast<std::size_t>(d)] * channels + c;
                    v = xt.c0[static_cast<std::size_t>(d)] * s[o] + xt.c1[static_cast<std::size_t>(d)] * s[o + channels];
                }
                out[d * channels + c] = v;
            }
    };
    std::vector<std::uint32_t> row0(static_cast<std::size_t>(row_len)), row1(static_cast<std::size_t>(row_len));
    for (Index dy = 0; dy < out_h; ++dy) {
        std::uint8_t* out = dst + dy * row_len;
        if (dy < yt.min || dy >= yt.max) {
            horizontal(dy < yt.min ? 0 : in_h - 1, row0.data());
            for (Index i = 0; i < row_len; ++i)
                out[i] = static_cast<std::uint8_t>(std::min<std::uint32_t>((row0[static_cast<std::size_t>(i)] + 128) >> 8, 255));
            continue;
        }
        const Index sy = yt.offset[static_cast<std::size_t>(dy)];
        horizontal(sy, row0.data());
        horizontal(sy + 1, row1.data());
        const std::uint64_t b0 = yt.c0[static_cast<std::size_t>(dy)], b1 = yt.c1[static_cast<std::size_t>(dy)];
        for (Index i = 0; i < row_len; ++i) {
            const std::uint64_t v = row0[static_cast<std::size_t>(i)] * b0 + row1[static_cast<std::size_t>(i)] * b1;
            out[i] = static_cast<std::uint8_t>(std::min<std::uint64_t>((v + 32768) >> 16, 255));
        }
    }
}

/// Float bilinear with OpenCV's coordinates.
inline void resize_bilinear_float(const float* src, Index in_h, Index in_w, Index channels, float* dst, Index out_h,
                                  Index out_w, bool area_mode = false) {
    const LinearTaps xt = linear_taps(in_w, out_w, area_mode);
    const LinearTaps yt = linear_taps(in_h, out_h, area_mode, false);
    for (Index dy = 0; dy < out_h; ++dy) {
        const Index r0 = std::clamp<Index>(yt.index[static_cast<std::size_t>(dy)], 0, in_h - 1);
        const Index r1 = std::clamp<Index>(yt.index[static_cast<std::size_t>(dy)] + 1, 0, in_h - 1);
        const float fy = yt.weight[static_cast<std::size_t>(dy)];
        const float* s0 = src + r0 * in_w * channels;
        const float* s1 = src + r1 * in_w * channels;
        float* out = dst + dy * out_w * channels;
        for (Index dx = 0; dx < out_w; ++dx) {
            const Index sx = xt.index[static_cast<std::size_t>(dx)];
            const float fx = dx < xt.first_clamped ? xt.weight[static_cast<std::size_t>(dx)] : 0.0f;
            const Index sx1 = dx < xt.first_clamped ? sx + 1 : sx;
            for (Index c = 0; c < channels; ++c) {
                const float t0 = s0[sx * channels + c] * (1.0f - fx) + s0[sx1 * channels + c] * fx;
                const float t1 = s1[sx * channels + c] * (1.0f - fx) + s1[sx1 * channels + c] * fx;
                out[dx * channels + c] = t0 * (1.0f - fy) + t1 * fy;
            }
        }
    }
}

/// Box average for shrinking: each output pixel averages the source area it covers.
template <class Pixel>
void resize_area_shrink(const Pixel* src, Index in_h, Index in_w, Index channels, Pixel* dst, Index out_h, Index out_w) {
    const double sy_scale = static_cast<double>(in_h) / static_cast<double>(out_h);
    const double sx_scale = static_cast<double>(in_w) / static_cast<double>(out_w);
    // Coverage of source index i by output index d along one axis.
    auto taps = [](Index in, Index out, double scale) {
        std::vector<std::vector<std::pair<Index, double>>> t(static_cast<std::size_t>(out));
        for (Index d = 0; d < out; ++d) {
            const double begin = static_cast<double>(d) * scale, end = static_cast<double>(d + 1) * scale;
            for (auto i = static_cast<Index>(std::floor(begin)); i < std::min<Index>(in, static_cast<Index>(std::ceil(end))); ++i) {
                const double w = std::min(end, static_cast<double>(i + 1)) - std::max(begin, static_cast<double>(i));
                if (w > 1e-12) t[static_cast<std::size_t>(d)].emplace_back(i, w / scale);
            }
        }
        return t;
    };
    const auto ty = taps(in_h, out_h, sy_scale);
    const auto tx = taps(in_w, out_w, sx_scale);
    std::vector<double> acc(static_cast<std::size_t>(channels));
    for (Index dy = 0; dy < out_h; ++dy) {
        for (Index dx = 0; dx < out_w; ++dx) {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (const auto& [iy, wy] : ty[static_cast<std::size_t>(dy)])
                for (const auto& [ix, wx] : tx[static_cast<std::size_t>(dx)])
                    for (Index c = 0; c < channels; ++c)
                        acc[static_cast<std::size_t>(c)] += wy * wx * static_cast<double>(src[(iy * in_w + ix) * channels + c]);
            for (Index c = 0; c < channels; ++c) {
                Pixel& out = dst[(dy * out_w + dx) * channels + c];
                if constexpr (std::is_integral_v<Pixel>)
                    out = static_cast<Pixel>(std::clamp<long>(std::lrint(acc[static_cast<std::size_t>(c)]), 0, 255));
                else
                    out = static_cast<Pixel>(acc[static_cast<std::size_t>(c)]);
            }
        }
    }
}

/// OpenCV's fast path for exact integer shrink factors (2x2 for halving): rounded box mean.
inline void resize_area_fast_u8(const std::uint8_t* src, Index in_w, Index channels, std::uint8_t* dst, Index out_h,
                                Index out_w, Index factor) {
    const Index area = factor * factor;
    for (Index dy = 0; dy < out_h; ++dy)
        for (Index dx = 0; dx < out_w; ++dx)
            for (Index c = 0; c < channels; ++c) {
                std::int32_t sum = 0;
                for (Index ky = 0; ky < factor; ++ky)
                    for (Index kx = 0; kx < factor; ++kx)
                        sum += src[((dy * factor + ky) * in_w + dx * factor + kx) * channels + c];
                dst[(dy * out_w + dx) * channels + c] = static_cast<std::uint8_t>((sum + area / 2) / area);
            }
}

}  // namespace detail

/// Resizes to height x width. 8-bit bilinear equals OpenCV 4.6's INTER_LINEAR exactly,
/// bilinear_exact its INTER_LINEAR_EXACT (float images: bilinear_exact = bilinear).
template <class Pixel>
Image<Pixel> resize(const Image<Pixel>& image, Index height, Index width,
                    Interpolation interpolation = Interpolation::bilinear) {
    static_assert(std::is_same_v<Pixel, std::uint8_t> || std::is_same_v<Pixel, float>,
                  "resize supports 8-bit and float images");
    detail::check_resize(image, height, width, "resize");
    const Index in_h = image.height(), in_w = image.width(), cn = image.channels();
    Image<Pixel> out(height, width, cn);
    if (height == in_h && width == in_w) return image;
    const bool shrinking = height <= in_h && width <= in_w;
    // Exact integer factors (same on both axes): the box mean, as OpenCV's area-fast path.
    const bool integer_factor = shrinking && in_h % height == 0 && in_w % width == 0 && in_h / height == in_w / width;
    const Index factor = integer_factor ? in_h / height : 0;
    if constexpr (std::is_same_v<Pixel, std::uint8_t>) {
        if (interpolation == Interpolation::bilinear_exact) {
            detail::resize_bilinear_exact_u8(image.data(), in_h, in_w, cn, out.data(), height, width);
        } else if (integer_factor && (interpolation == Interpolation::area || factor == 2)) {
            detail::resize_area_fast_u8(image.data(), in_w, cn, out.data(), height, width, factor);
        } else if (interpolation == Interpolation::area && shrinking) {
            detail::resize_area_shrink(image.data(), in_h, in_w, cn, out.data(), height, width);
        } else {
            detail::resize_bilinear_u8(image.data(), in_h, in_w, cn, out.data(), height, width,
                                       interpolation == Interpolation::area);
        }
    } else {
        if (interpolation == Interpolation::area && shrinking)
            detail::resize_area_shrink(image.data(), in_h, in_w, cn, out.data(), height, width);
        else
            detail::resize_bilinear_float(image.data(), in_h, in_w, cn, out.data(), height, width,
                                          interpolation == Interpolation::area);
    }
    return out;
}

/// The h x w region whose top-left pixel is (y, x); it must lie inside the image.
template <class Pixel>
Image<Pixel> crop(const Image<Pixel>& image, Index y, Index x, Index height, Index width) {
    if (height <= 0 || width <= 0) detail::fail("crop: size must be positive, got ", height, " x ", width);
    if (y < 0 || x < 0 || y + height > image.height() || x + width > image.width())
        detail::fail("crop: region ", height, " x ", width, " at (", y, ", ", x, ") is outside the ", image.height(),
                     " x ", image.width(), " image");
    const Index cn = image.channels();
    Image<Pixel> out(height, width, cn);
    for (Index r = 0; r < height; ++r)
        std::copy_n(image.data() + ((y + r) * image.width() + x) * cn, width * cn, out.data() + r * width * cn);
    return out;
}

/// Mirror image (columns reversed), any channel count.
template <class Pixel>
Image<Pixel> flip_horizontal(const Image<Pixel>& image) {
    const Index cn = image.channels(), W = image.width();
    Image<Pixel> out(image.height(), W, cn);
    for (Index r = 0; r < image.height(); ++r)
        for (Index c = 0; c < W; ++c)
            std::copy_n(image.data() + (r * W + (W - 1 - c)) * cn, cn, out.data() + (r * W + c) * cn);
    return out;
}

}  // namespace feral
