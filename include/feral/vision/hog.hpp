// feral/vision/hog.hpp — Histogram of Oriented Gradients, exactly as
// scikit-image 0.19's skimage.feature.hog defines it (grayscale images).
//
// The definition (skimage/feature/_hog.py and _hoghistogram.pyx), step by step:
//  1. optional power-law compression: I <- sqrt(I)            (transform_sqrt)
//  2. gradients by central differences, zero on the border:
//        g_row(r, c) = I(r+1, c) - I(r-1, c),  g_row = 0 on the first and last row
//        g_col(r, c) = I(r, c+1) - I(r, c-1),  g_col = 0 on the first and last column
//  3. magnitude hypot(g_col, g_row); orientation = degrees(atan2(g_row, g_col)) mod 180
//  4. cells of pixels_per_cell = (c_row, c_col) pixels, n_cells = floor(size / cell)
//     (pixels beyond the last whole cell are ignored); each pixel votes its magnitude
//     into ONE bin, bin i covering [i * 180/n, (i+1) * 180/n) (no interpolation);
//     the cell histogram is the sum divided by the cell area (summed in float, as
//     skimage's Cython does)
//  5. blocks of cells_per_block = (b_row, b_col) cells, stride one cell:
//     n_blocks = n_cells - b + 1; each block's b_row * b_col * n values are normalised
//        L1       v / (sum|v| + eps)
//        L1-sqrt  sqrt(v / (sum|v| + eps))
//        L2       v / sqrt(sum v^2 + eps^2)
//        L2-Hys   L2, then min(v, 0.2), then L2 again             (eps = 1e-5)
//  6. layout (n_blocks_row, n_blocks_col, b_row, b_col, orientations), row-major;
//     the feature vector is that array flattened (feature_vector=True).
//
// How it is made fast (the result is the same): gradients, magnitudes and bins are
// computed row by row in float with xsimd. The bin needs no atan2: with the
// gradient folded into the upper half plane (g_row >= 0), the angle is at least
// boundary b_i exactly when the cross product g_row cos(b_i) - g_col sin(b_i) >= 0,
// so the bin is the number of boundaries passed. A pixel whose cross product is
// within a relative 1e-4 of zero for some boundary (a tie or near-tie, e.g. an exact
// 45-degree gradient with 4 bins) is re-binned with skimage's own double-precision
// formula, so binning is identical to skimage's, not merely close.
//
// Example:
//   auto face = feral::read_image("face.png", feral::ColorMode::gray);
//   feral::HogParams p{.orientations = 9, .pixels_per_cell = {8, 8}, .cells_per_block = {2, 2}};
//   std::vector<float> f = feral::hog(face, p);               // 900 values for 48x48
//   feral::Matrix<float> X = feral::hog(dataset, p);          // one row per image
//   auto vis = feral::hog_visualize(face, p);                 // skimage's visualize=True
//   feral::write_png("hog.png", feral::to_uint8_scaled(vis.image));
//
// Cost: about 30 flops per pixel plus one scattered add; batches run in parallel
// over images (HogParams::n_threads; results do not depend on the thread count).
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/huge_pages.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/data/dataset.hpp"
#include "feral/data/image.hpp"

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace feral {

/// Block normalisation methods (skimage's block_norm strings: "L1", "L1-sqrt", "L2", "L2-Hys").
enum class BlockNorm { L1, L1_sqrt, L2, L2_Hys };

inline BlockNorm parse_block_norm(std::string_view name) {
    if (name == "L1") return BlockNorm::L1;
    if (name == "L1-sqrt") return BlockNorm::L1_sqrt;
    if (name == "L2") return BlockNorm::L2;
    if (name == "L2-Hys") return BlockNorm::L2_Hys;
    detail::fail("parse_block_norm: unknown block norm '", name, "' (expected L1, L1-sqrt, L2 or L2-Hys)");
}

inline const char* to_string(BlockNorm norm) {
    switch (norm) {
        case BlockNorm::L1: return "L1";
        case BlockNorm::L1_sqrt: return "L1-sqrt";
        case BlockNorm::L2: return "L2";
        case BlockNorm::L2_Hys: return "L2-Hys";
    }
    return "?";
}

/// HOG parameters; defaults are skimage 0.19's.
struct HogParams {
    int orientations = 9;
    std::array<int, 2> pixels_per_cell = {8, 8};  ///< (rows, columns)
    std::array<int, 2> cells_per_block = {3, 3};  ///< (rows, columns)
    BlockNorm block_norm = BlockNorm::L2_Hys;
    bool transform_sqrt = false;
    int n_threads = 0;  ///< batch extraction; 0 = FERAL_NUM_THREADS or all cores
};

/// Shape of the descriptor of an H x W image: (n_blocks_row, n_blocks_col, b_row, b_col, orientations).
struct HogLayout {
    Index height = 0, width = 0;
    Index n_cells_row = 0, n_cells_col = 0;
    Index n_blocks_row = 0, n_blocks_col = 0;
    Index b_row = 0, b_col = 0;
    Index orientations = 0;

    [[nodiscard]] Index size() const { return n_blocks_row * n_blocks_col * b_row * b_col * orientations; }
    /// Position in the feature vector of block (br, bc), cell (r, c) of the block, bin o.
    [[nodiscard]] Index index(Index br, Index bc, Index r, Index c, Index o) const {
        return (((br * n_blocks_col + bc) * b_row + r) * b_col + c) * orientations + o;
    }
};

/// Validates `params` for an H x W image and returns the descriptor's layout.
/// Throws invalid_argument naming the problem (non-positive sizes, cells or
/// blocks that do not fit the image).
inline HogLayout hog_layout(Index height, Index width, const HogParams& params, std::string_view where = "hog") {
    if (height <= 0 || width <= 0) detail::fail(where, ": empty image (", height, " x ", width, ")");
    if (params.orientations <= 0) detail::fail(where, ": orientations must be positive, got ", params.orientations);
    const auto [c_row, c_col] = params.pixels_per_cell;
    const auto [b_row, b_col] = params.cells_per_block;
    if (c_row <= 0 || c_col <= 0)
        detail::fail(where, ": pixels_per_cell must be positive, got (", c_row, ", ", c_col, ")");
    if (b_row <= 0 || b_col <= 0)
        detail::fail(where, ": cells_per_block must be positive, got (", b_row, ", ", b_col, ")");
    if (params.n_threads < 0) detail::fail(where, ": n_threads must be >= 0, got ", params.n_threads);
    HogLayout l;
    l.height = height;
    l.width = width;
    l.n_cells_row = height / c_row;
    l.n_cells_col = width / c_col;
    if (l.n_cells_row == 0 || l.n_cells_col == 0)
        detail::fail(where, ": cells of ", c_row, " x ", c_col, " pixels are larger than the ", height, " x ", width,
                     " image");
    l.b_row = b_row;
    l.b_col = b_col;
    l.n_blocks_row = l.n_cells_row - b_row + 1;
    l.n_blocks_col = l.n_cells_col - b_col + 1;
    if (l.n_blocks_row <= 0 || l.n_blocks_col <= 0)
        detail::fail(where, ": blocks of ", b_row, " x ", b_col, " cells do not fit the ", l.n_cells_row, " x ",
                     l.n_cells_col, " cells of a ", height, " x ", width, " image");
    l.orientations = params.orientations;
    return l;
}

namespace detail {

// The kernel's instruction set: 8 float lanes (one row of an 8-pixel cell) where
// AVX2 exists. AVX-512 is not faster on 48-pixel rows, and GCC 12 warns
// (-Wmaybe-uninitialized, a false positive) inside its masked sqrt intrinsics.
#if XSIMD_WITH_AVX2
using hog_arch = xsimd::avx2;
#else
using hog_arch = xsimd::default_arch;
#endif

/// skimage's orientation bin of one gradient, in double precision exactly as
/// _hoghistogram.pyx computes it; -1 when the angle rounds to 180 (no bin).
inline int hog_exact_bin(double g_row, double g_col, int orientations) {
    const double degrees = std::atan2(g_row, g_col) * (180.0 / std::numbers::pi);  // np.rad2deg
    double angle = std::fmod(degrees, 180.0);                                        // Python's % 180
    if (angle != 0.0 && angle < 0.0) angle += 180.0;
    if (angle == 0.0) angle = 0.0;
    const double per_bin = 180.0 / orientations;
    for (int i = 0; i < orientations; ++i)
        if (angle < per_bin * (i + 1) && angle >= per_bin * i) return i;
    return -1;
}

/// Per-call workspace of the HOG kernel (allocated once per thread in batches).
struct HogWorkspace {
    std::vector<float> pixels;     // H x W, after the optional sqrt
    std::vector<float> g_row, g_col, magnitude;  // one row, padded to the SIMD width
    std::vector<std::int32_t> bins;              // one row
    std::vector<float> histogram;  // n_cells_row x n_cells_col x orientations
    std::vector<float> band_magnitude;        // pixels_per_cell[0] rows of magnitudes (vector votes)
    std::vector<std::int32_t> band_bins;      // and their bins
    std::vector<float> cos_boundary, sin_boundary;  // boundaries 1..n-1

    void prepare(const HogLayout& l) {
        constexpr std::size_t lanes = xsimd::batch<float, hog_arch>::size;
        const auto padded = static_cast<std::size_t>((l.width + static_cast<Index>(lanes)) / static_cast<Index>(lanes)) * lanes;
        pixels.resize(static_cast<std::size_t>(l.height * l.width));
        g_row.assign(padded, 0.0f);
        g_col.assign(padded, 0.0f);
        magnitude.assign(padded, 0.0f);
        bins.assign(padded, 0);
        histogram.assign(static_cast<std::size_t>(l.n_cells_row * l.n_cells_col * l.orientations), 0.0f);
        const auto cell_rows = static_cast<std::size_t>(l.n_cells_row > 0 ? l.height / l.n_cells_row : 1);
        band_magnitude.assign(cell_rows * padded, 0.0f);
        band_bins.assign(cell_rows * padded, 0);
        if (cos_boundary.size() != static_cast<std::size_t>(l.orientations - 1)) {
            cos_boundary.clear();
            sin_boundary.clear();
            const double per_bin = 180.0 / static_cast<double>(l.orientations);
            for (Index i = 1; i < l.orientations; ++i) {
                const double b = per_bin * static_cast<double>(i) * std::numbers::pi / 180.0;
                cos_boundary.push_back(static_cast<float>(std::cos(b)));
                sin_boundary.push_back(static_cast<float>(std::sin(b)));
            }
        }
    }
};

template <class Pixel>
double hog_source_value(const Pixel* image, Index i, bool transform_sqrt) {
    const auto v = static_cast<double>(image[i]);
    return transform_sqrt ? std::sqrt(v) : v;
}

/// Checks the pixels: finite, and non-negative when transform_sqrt is set.
/// `image_index` >= 0 names the image of a batch in the message.
template <class Pixel>
void hog_check_pixels(const Pixel* image, const HogLayout& l, bool transform_sqrt, std::string_view where,
                      Index image_index = -1) {
    if constexpr (std::is_floating_point_v<Pixel>) {
        for (Index i = 0; i < l.height * l.width; ++i) {
            const bool bad = !std::isfinite(image[i]) || (transform_sqrt && image[i] < 0);
            if (!bad) continue;
            const std::string which = image_index >= 0 ? message(" of image ", image_index) : std::string();
            fail(where, ": pixel (", i / l.width, ", ", i % l.width, ")", which, " is ", image[i],
                 std::isfinite(image[i]) ? " but transform_sqrt needs non-negative pixels" : " (must be finite)");
        }
    }
}

inline constexpr int kHogMaxVectorBins = 32;

/// Votes of a band of `rows` rows whose cells are one SIMD register wide: for each
/// cell, per bin, the lane-wise sum of the magnitudes whose bin matches, then reduced.
/// N > 0 fixes the bin count at compile time (accumulators stay in registers).
template <int N>
void hog_vote_band(const float* magnitude, const std::int32_t* bins, Index stride, Index rows, Index n_cells_col,
                   int n_orient, float* cell_row_hist) {
    using batch = xsimd::batch<float, hog_arch>;
    using ibatch = xsimd::batch<std::int32_t, hog_arch>;
    constexpr Index lanes = static_cast<Index>(batch::size);
    const int n = N > 0 ? N : n_orient;
    const batch zero(0.0f);
    for (Index cx = 0; cx < n_cells_col; ++cx) {
        batch acc[N > 0 ? N : kHogMaxVectorBins];
        for (int b = 0; b < n; ++b) acc[b] = zero;
        for (Index r = 0; r < rows; ++r) {
            const batch mag = batch::load_unaligned(magnitude + r * stride + cx * lanes);
            const batch bin = xsimd::batch_cast<float>(ibatch::load_unaligned(bins + r * stride + cx * lanes));
            for (int b = 0; b < n; ++b) acc[b] += xsimd::select(bin == batch(static_cast<float>(b)), mag, zero);
        }
        for (int b = 0; b < n; ++b) cell_row_hist[cx * n + b] = xsimd::hadd(acc[b]);
    }
}

/// Orientation histograms of all cells (step 1-4) into ws.histogram.
template <class Pixel>
void hog_cell_histograms(const Pixel* image, const HogLayout& l, const HogParams& params, HogWorkspace& ws) {
    using batch = xsimd::batch<float, hog_arch>;
    constexpr Index lanes = static_cast<Index>(batch::size);
    const Index H = l.height, W = l.width;
    const int n_orient = params.orientations;
    const Index c_row = params.pixels_per_cell[0], c_col = params.pixels_per_cell[1];
    const Index used_rows = l.n_cells_row * c_row;
    const Index used_cols = l.n_cells_col * c_col;

    float* px = ws.pixels.data();
    if (params.transform_sqrt) {
        for (Index i = 0; i < H * W; ++i) px[i] = std::sqrt(static_cast<float>(image[i]));
    } else {
        for (Index i = 0; i < H * W; ++i) px[i] = static_cast<float>(image[i]);
    }
    std::fill(ws.histogram.begin(), ws.histogram.end(), 0.0f);

    float* g_row = ws.g_row.data();
    float* g_col = ws.g_col.data();
    float* magnitude = ws.magnitude.data();
    std::int32_t* bins = ws.bins.data();
    const bool vector_votes = c_col == lanes && n_orient <= kHogMaxVectorBins;
    const Index band_stride = static_cast<Index>(ws.magnitude.size());
    const float* cos_b = ws.cos_boundary.data();
    const float* sin_b = ws.sin_boundary.data();
    const int n_boundaries = n_orient - 1;
    // A cross product below this fraction of |g_row| + |g_col| may be a (near) tie:
    // float rounding is ~1e-7 relative, so 1e-4 leaves a wide margin.
    const batch tolerance(1e-4f);
    const batch zero(0.0f), one(1.0f);

    for (Index y = 0; y < used_rows; ++y) {
        const float* row = px + y * W;
        if (vector_votes) {
            magnitude = ws.band_magnitude.data() + (y % c_row) * band_stride;
            bins = ws.band_bins.data() + (y % c_row) * band_stride;
        }
        // Central differences; zero on the image border (not the used-area border).
        g_col[0] = 0.0f;
        const Index interior_end = std::min(used_cols, W - 1);
        for (Index x = 1; x < interior_end; ++x) g_col[x] = row[x + 1] - row[x - 1];
        for (Index x = std::max<Index>(interior_end, 1); x < used_cols; ++x) g_col[x] = 0.0f;
        if (y == 0 || y == H - 1) {
            std::fill(g_row, g_row + used_cols, 0.0f);
        } else {
            const float* above = row - W;
            const float* below = row + W;
            for (Index x = 0; x < used_cols; ++x) g_row[x] = below[x] - above[x];
        }
        for (Index x = 0; x < used_cols; x += lanes) {
            batch gr = batch::load_unaligned(g_row + x);
            batch gc = batch::load_unaligned(g_col + x);
            // Fold into the upper half plane; angle 180 (g_row == 0, g_col < 0) is angle 0.
            const auto negative = gr < zero;
            gc = xsimd::select(negative, -gc, gc);
            gr = xsimd::abs(gr);
            gc = xsimd::select(gr == zero, xsimd::abs(gc), gc);
            const batch mag = xsimd::sqrt(xsimd::fma(gr, gr, gc * gc));
            const batch scale = tolerance * (gr + xsimd::abs(gc));
            batch bin = zero;
            auto near = gr != gr;  // all false
            for (int i = 0; i < n_boundaries; ++i) {
                const batch cross = xsimd::fms(gr, batch(cos_b[i]), gc * batch(sin_b[i]));
                bin += xsimd::select(cross >= zero, one, zero);
                near = near | (xsimd::abs(cross) < scale);
            }
            mag.store_unaligned(magnitude + x);
            xsimd::to_int(bin).store_unaligned(bins + x);
            if (xsimd::any(near)) {
                alignas(64) float near_mask[lanes];
                xsimd::select(near, one, zero).store_aligned(near_mask);
                for (Index k = 0; k < lanes && x + k < used_cols; ++k) {
                    if (near_mask[k] == 0.0f) continue;
                    // Recompute exactly as skimage: double gradients from the source pixels.
                    const Index xx = x + k;
                    const Index i = y * W + xx;
                    const double gr_exact = (y == 0 || y == H - 1)
                                                ? 0.0
                                                : hog_source_value(image, i + W, params.transform_sqrt) -
                                                      hog_source_value(image, i - W, params.transform_sqrt);
                    const double gc_exact = (xx == 0 || xx == W - 1)
                                                ? 0.0
                                                : hog_source_value(image, i + 1, params.transform_sqrt) -
                                                      hog_source_value(image, i - 1, params.transform_sqrt);
                    bins[xx] = hog_exact_bin(gr_exact, gc_exact, n_orient);
                }
            }
        }
        float* cell_row_hist = ws.histogram.data() + (y / c_row) * l.n_cells_col * n_orient;
        if (vector_votes) {
            // Cells one SIMD register wide: a band of c_row rows is kept, then each cell
            // sums its votes lane-wise per bin (no scattered read-modify-write).
            if (y % c_row == c_row - 1) {
                if (n_orient == 9)
                    hog_vote_band<9>(ws.band_magnitude.data(), ws.band_bins.data(), band_stride, c_row, l.n_cells_col,
                                     n_orient, cell_row_hist);
                else
                    hog_vote_band<0>(ws.band_magnitude.data(), ws.band_bins.data(), band_stride, c_row, l.n_cells_col,
                                     n_orient, cell_row_hist);
            }
        } else {
            // Votes in skimage's order (row-major inside each cell), summed in float.
            for (Index x = 0; x < used_cols; ++x) {
                const std::int32_t b = bins[x];
                if (b >= 0) cell_row_hist[(x / c_col) * n_orient + b] += magnitude[x];
            }
        }
    }
    const float area = static_cast<float>(c_row * c_col);
    for (float& v : ws.histogram) v /= area;
}

/// Sum of v[i]^2 (squares = true) or |v[i]| over n floats, eight lanes at a time.
inline float hog_block_sum(const float* v, Index n, bool squares) {
    using batch = xsimd::batch<float, hog_arch>;
    constexpr Index lanes = static_cast<Index>(batch::size);
    batch acc(0.0f);
    Index k = 0;
    for (; k + lanes <= n; k += lanes) {
        const batch x = batch::load_unaligned(v + k);
        acc = squares ? xsimd::fma(x, x, acc) : acc + xsimd::abs(x);
    }
    float sum = xsimd::hadd(acc);
    for (; k < n; ++k) sum += squares ? v[k] * v[k] : std::abs(v[k]);
    return sum;
}

/// Block normalisation (step 5-6): histogram -> out (layout.size() values), in float
/// (the sums have at most a few hundred terms; float rounding stays near 1e-7).
inline void hog_normalize_blocks(const float* histogram, const HogLayout& l, BlockNorm norm, float* out) {
    const Index n = l.orientations;
    const Index block_size = l.b_row * l.b_col * n;
    constexpr float eps = 1e-5f;
    for (Index br = 0; br < l.n_blocks_row; ++br) {
        for (Index bc = 0; bc < l.n_blocks_col; ++bc) {
            float* block = out + l.index(br, bc, 0, 0, 0);
            for (Index r = 0; r < l.b_row; ++r)
                std::copy_n(histogram + ((br + r) * l.n_cells_col + bc) * n, l.b_col * n, block + r * l.b_col * n);
            switch (norm) {
                case BlockNorm::L1:
                case BlockNorm::L1_sqrt: {
                    const float inv = 1.0f / (hog_block_sum(block, block_size, false) + eps);
                    for (Index k = 0; k < block_size; ++k) block[k] *= inv;
                    if (norm == BlockNorm::L1_sqrt)
                        for (Index k = 0; k < block_size; ++k) block[k] = std::sqrt(block[k]);
                    break;
                }
                case BlockNorm::L2:
                case BlockNorm::L2_Hys: {
                    const float inv = 1.0f / std::sqrt(hog_block_sum(block, block_size, true) + eps * eps);
                    if (norm == BlockNorm::L2) {
                        for (Index k = 0; k < block_size; ++k) block[k] *= inv;
                        break;
                    }
                    for (Index k = 0; k < block_size; ++k) block[k] = std::min(block[k] * inv, 0.2f);
                    const float inv_clipped = 1.0f / std::sqrt(hog_block_sum(block, block_size, true) + eps * eps);
                    for (Index k = 0; k < block_size; ++k) block[k] *= inv_clipped;
                    break;
                }
            }
        }
    }
}

template <class Pixel>
void hog_one(const Pixel* image, const HogLayout& l, const HogParams& params, HogWorkspace& ws, float* out,
             std::string_view where, Index image_index = -1) {
    hog_check_pixels(image, l, params.transform_sqrt, where, image_index);
    hog_cell_histograms(image, l, params, ws);
    hog_normalize_blocks(ws.histogram.data(), l, params.block_norm, out);
}

template <class Pixel>
void check_hog_image(const Image<Pixel>& image, std::string_view where) {
    if (image.channels() != 1)
        fail(where, ": expected a grayscale image, got ", image.channels(), " channels (convert with ColorMode::gray)");
}

}  // namespace detail

/// HOG feature vector of one H x W grayscale image (pixels row by row).
/// Pixel: std::uint8_t, float or double.
template <class Pixel>
std::vector<float> hog(const Pixel* image, Index height, Index width, const HogParams& params = {}) {
    const HogLayout l = hog_layout(height, width, params);
    detail::HogWorkspace ws;
    ws.prepare(l);
    std::vector<float> out(static_cast<std::size_t>(l.size()));
    detail::hog_one(image, l, params, ws, out.data(), "hog");
    return out;
}

template <class Pixel>
std::vector<float> hog(const Image<Pixel>& image, const HogParams& params = {}) {
    detail::check_hog_image(image, "hog");
    return hog(image.data(), image.height(), image.width(), params);
}

/// The descriptor with its per-block layout (skimage's feature_vector=False):
/// at(br, bc, r, c, o) is the value of array[br, bc, r, c, o].
struct HogBlocks {
    HogLayout layout;
    std::vector<float> values;  ///< flattened in layout order (== the feature vector)
    [[nodiscard]] float at(Index br, Index bc, Index r, Index c, Index o) const {
        return values[static_cast<std::size_t>(layout.index(br, bc, r, c, o))];
    }
};

template <class Pixel>
HogBlocks hog_blocks(const Image<Pixel>& image, const HogParams& params = {}) {
    detail::check_hog_image(image, "hog_blocks");
    HogBlocks blocks;
    blocks.layout = hog_layout(image.height(), image.width(), params, "hog_blocks");
    blocks.values = hog(image.data(), image.height(), image.width(), params);
    return blocks;
}

/// Unnormalised cell histograms (n_cells_row x n_cells_col x orientations,
/// row-major): skimage's `orientation_histogram`, the input of the visualisation.
template <class Pixel>
std::vector<float> hog_cell_histograms(const Image<Pixel>& image, const HogParams& params = {}) {
    detail::check_hog_image(image, "hog_cell_histograms");
    const HogLayout l = hog_layout(image.height(), image.width(), params, "hog_cell_histograms");
    detail::HogWorkspace ws;
    ws.prepare(l);
    detail::hog_check_pixels(image.data(), l, params.transform_sqrt, "hog_cell_histograms");
    detail::hog_cell_histograms(image.data(), l, params, ws);
    return ws.histogram;
}

/// skimage's visualize=True output: the feature vector and the HOG image (for each
/// cell and bin, a line through the cell centre perpendicular to the bin's middle
/// angle, of intensity the cell's histogram value; lines by skimage.draw.line).
struct HogVisualization {
    std::vector<float> features;
    Image<float> image;
};

template <class Pixel>
HogVisualization hog_visualize(const Image<Pixel>& image, const HogParams& params = {}) {
    detail::check_hog_image(image, "hog_visualize");
    const HogLayout l = hog_layout(image.height(), image.width(), params, "hog_visualize");
    detail::HogWorkspace ws;
    ws.prepare(l);
    HogVisualization vis;
    vis.features.resize(static_cast<std::size_t>(l.size()));
    detail::hog_one(image.data(), l, params, ws, vis.features.data(), "hog_visualize");

    const Index H = l.height, W = l.width;
    std::vector<double> canvas(static_cast<std::size_t>(H * W), 0.0);
    const Index c_row = params.pixels_per_cell[0], c_col = params.pixels_per_cell[1];
    const Index radius = std::min(c_row, c_col) / 2 - 1;
    const Index n = l.orientations;
    // numpy indexing: a negative index counts from the end (only reachable for 1-pixel cells).
    auto wrap = [](Index i, Index size) { return i < 0 ? i + size : i; };
    for (Index r = 0; r < l.n_cells_row; ++r) {
        for (Index c = 0; c < l.n_cells_col; ++c) {
            for (Index o = 0; o < n; ++o) {
                const double midpoint = std::numbers::pi * (static_cast<double>(o) + 0.5) / static_cast<double>(n);
                const double dr = static_cast<double>(radius) * std::sin(midpoint);
                const double dc = static_cast<double>(radius) * std::cos(midpoint);
                const auto centre_r = static_cast<double>(r * c_row + c_row / 2);
                const auto centre_c = static_cast<double>(c * c_col + c_col / 2);
                // Python's int() truncates toward zero, as static_cast does.
                const auto r0 = static_cast<Index>(centre_r - dc), c0 = static_cast<Index>(centre_c + dr);
                const auto r1 = static_cast<Index>(centre_r + dc), c1 = static_cast<Index>(centre_c - dr);
                const double value = ws.histogram[static_cast<std::size_t>((r * l.n_cells_col + c) * n + o)];
                // skimage.draw.line (Bresenham); its pixels are distinct.
                Index rr = r0, cc = c0, d_r = std::abs(r1 - r0), d_c = std::abs(c1 - c0);
                Index s_c = (c1 - cc) > 0 ? 1 : -1, s_r = (r1 - rr) > 0 ? 1 : -1;
                const bool steep = d_r > d_c;
                if (steep) {
                    std::swap(cc, rr);
                    std::swap(d_c, d_r);
                    std::swap(s_c, s_r);
                }
                Index d = 2 * d_r - d_c;
                for (Index i = 0; i < d_c; ++i) {
                    const Index pr = steep ? cc : rr, pc = steep ? rr : cc;
                    canvas[static_cast<std::size_t>(wrap(pr, H) * W + wrap(pc, W))] += value;
                    while (d >= 0) {
                        rr += s_r;
                        d -= 2 * d_c;
                    }
                    cc += s_c;
                    d += 2 * d_r;
                }
                canvas[static_cast<std::size_t>(wrap(r1, H) * W + wrap(c1, W))] += value;
            }
        }
    }
    vis.image = Image<float>(H, W, 1);
    for (Index i = 0; i < H * W; ++i) vis.image.data()[i] = static_cast<float>(canvas[static_cast<std::size_t>(i)]);
    return vis;
}

/// Scales a float image linearly so its maximum becomes 255 (minimum clamped at 0),
/// for writing HOG visualisations as PNG. An all-zero image stays black.
inline Image<std::uint8_t> to_uint8_scaled(const Image<float>& image) {
    Image<std::uint8_t> out(image.height(), image.width(), image.channels());
    float top = 0;
    for (Index i = 0; i < image.size(); ++i) top = std::max(top, image.data()[i]);
    const float scale = top > 0 ? 255.0f / top : 0.0f;
    for (Index i = 0; i < image.size(); ++i)
        out.data()[i] = static_cast<std::uint8_t>(std::lround(std::clamp(image.data()[i] * scale, 0.0f, 255.0f)));
    return out;
}

/// Batch extraction: row i of `images` is an image of `shape` (one channel);
/// returns images.rows() x layout.size() features, parallel over images.
template <class Pixel>
Matrix<float> hog(const Eigen::Ref<const Matrix<Pixel>>& images, const ImageShape& shape, const HogParams& params = {}) {
    if (shape.channels != 1)
        detail::fail("hog: expected one-channel images, shape is ", to_string(shape));
    if (images.cols() != shape.size())
        detail::fail("hog: images have ", images.cols(), " values each, shape ", to_string(shape), " needs ", shape.size());
    if (images.rows() == 0) detail::fail("hog: no images (0 rows)");
    const HogLayout l = hog_layout(shape.height, shape.width, params);
    Matrix<float> features(images.rows(), l.size());
    advise_huge_pages(features);  // written whole, once: see core/huge_pages.hpp
    parallel_for(0, images.rows(), params.n_threads, [&](std::int64_t begin, std::int64_t end) {
        detail::HogWorkspace ws;
        ws.prepare(l);
        for (std::int64_t i = begin; i < end; ++i)
            detail::hog_one(images.row(i).data(), l, params, ws, features.row(i).data(), "hog", i);
    });
    return features;
}

/// Batch extraction over a data set's pixels (8-bit, one channel).
inline Matrix<float> hog(const Dataset& dataset, const HogParams& params = {}) {
    return hog<std::uint8_t>(dataset.pixels, dataset.shape, params);
}

}  // namespace feral
