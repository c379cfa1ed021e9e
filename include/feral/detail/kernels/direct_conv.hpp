// feral/detail/kernels/direct_conv.hpp — a stride-1 convolution computed straight from the
// image: no column matrix and no packed panels.
//
//   out[o, y, x] = act(bias[o] + sum_{c,i,j} kernel(o, (c*kh + i)*kw + j) * in[c, y + i - pt, x + j - pl])
//
// (zero outside the image; the kernel is F x C*kh*kw as in im2col.hpp). The image is first
// copied into a zero-bordered buffer, so every output pixel reads the same relative window
// and the inner loop has no bounds tests. The tile is a run of `pixels` output pixels of one
// row times `channels` output channels (two vectors): for every (c, i, j) the kernel's
// two vectors of output channels are loaded once and each of the run's input values is
// broadcast against them, so a load feeds `pixels` or two FMAs. With AVX-512 that is 12
// pixels x 32 channels = 24 of the 32 vector registers, the same accumulator count as the
// GEMM's tiles. The kernel is packed once per call (pack_direct_kernel), channel-block
// major, so the two vectors for one (c, i, j) are adjacent.
//
// The kernel gradient of one image is the same sum turned around: dkernel(o, (c, i, j)) is a
// sum over the output pixels of G[o, y, x] * in[c, y + i - pt, x + j - pl]. Its tile is 12
// kernel rows x 32 filters: for every output pixel the two vectors of G's filters (G
// transposed once per image, so they are adjacent) are loaded and the 12 rows' input
// values broadcast against them. Its sums stay in the tiles' own layout while the images
// of a batch are added (DirectGradientLayout): adding one image's tile is then 24 vector
// additions rather than 384 scattered scalar ones, which on a 12x12 map (144 pixels per
// tile) cost a tenth of the layer's training time; unpack_direct_gradient reads the
// filters x C*kh*kw gradient out once, at the end.
//
// Why not im2col + GEMM here: the GEMM must pack every value of the column panel before
// its micro-kernel sees it, and with 32-128 filters a packed value feeds only 32-128 FMAs,
// so packing costs a fifth to a third of the work (benchmarks/RESULTS.md, "Implicit
// im2col"); here the image, a few dozen KB, is the only thing copied. Measured on the FER
// CNN layers with 32 or more input channels it runs the forward pass 1.5-2.2x faster
// (benchmarks/RESULTS.md, "Direct convolution"). With very few input channels (the first
// layer: C*k*k = 9) the tile's store dominates, and with few output channels most of a
// tile's lanes are wasted, so the GEMM stays faster there: Conv2D takes this path from
// kMinDirectDepth kernel rows and kMinDirectChannels output channels on.
//
// Determinism: each output value sums its C*kh*kw products in (c, i, j) order, and each
// kernel-gradient value its pixels' products in (y, x) order, whatever the thread count or
// tile position; partial tiles (the row's last run, the last block of channels or rows)
// compute padded lanes that are never stored (the forward pass) or never read out (the
// kernel gradient's layout).
//
// Their twins are im2col_reference + gemm_reference (the tests compare against the column
// matrix times the kernel, and G times its transpose): the same sums, written once.
#pragma once

#include "feral/detail/kernels/im2col.hpp"

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

namespace feral::detail::kernels {

/// Tile sizes for scalar type T on architecture Arch (see the header comment).
template <class T, class Arch = xsimd::default_arch>
struct DirectConvBlocking {
    using batch = xsimd::batch<T, Arch>;
    static constexpr int lanes = static_cast<int>(batch::size);
    static constexpr bool many_registers = sizeof(T) * lanes >= 64;  // AVX-512: 32 vector registers, else 16
    static constexpr int channels = 2 * lanes;                       // output channels per tile
    static constexpr int pixels = many_registers ? 12 : 6;           // output pixels per tile
};

/// packed[(b*depth + r)*CB + o] = kernel[(b*CB + o)*depth + r], zero for b*CB + o >= filters:
/// the kernel (filters x depth, row-major) as blocks of CB output channels, each (c, i, j)
/// row of a block's CB values adjacent.
template <class T>
void pack_direct_kernel(const T* kernel, conv_index filters, conv_index depth, std::vector<T>& packed) {
    constexpr conv_index CB = DirectConvBlocking<T>::channels;
    const conv_index blocks = (filters + CB - 1) / CB;
    packed.assign(static_cast<std::size_t>(blocks * depth * CB), T(0));
    for (conv_index f = 0; f < filters; ++f) {
        T* dst = packed.data() + (f / CB) * depth * CB + f % CB;
        const T* src = kernel + f * depth;
        for (conv_index r = 0; r < depth; ++r) dst[r * CB] = src[r];
    }
}

/// One tile: acc[p][0..CB) = sum_r w[r*CB + 0..CB) * in[offsets[r] + p] for p < pixels.
template <class T, class Arch = xsimd::default_arch>
void direct_tile(const T* in, const conv_index* offsets, conv_index depth, const T* w,
                 T (&tile)[DirectConvBlocking<T, Arch>::pixels][DirectConvBlocking<T, Arch>::channels]) {
    using B = DirectConvBlocking<T, Arch>;
    using batch = typename B::batch;
    constexpr int P = B::pixels, L = B::lanes;
    batch lo[P], hi[P];
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) lo[p] = hi[p] = batch(T(0));
    for (conv_index r = 0; r < depth; ++r) {
        const batch b0 = batch::load_unaligned(w + r * 2 * L), b1 = batch::load_unaligned(w + r * 2 * L + L);
        const T* a = in + offsets[r];
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p) {
            const batch v(a[p]);
            lo[p] = xsimd::fma(v, b0, lo[p]);
            hi[p] = xsimd::fma(v, b1, hi[p]);
        }
    }
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
        lo[p].store_unaligned(tile[p]);
        hi[p].store_unaligned(tile[p] + L);
    }
}

/// Buffers direct_conv reuses between calls (one per thread).
template <class T>
struct DirectConvScratch {
    std::vector<T> padded;
    std::vector<conv_index> offsets;
};

/// Copies one image (g.channels planes of g.height x g.width, plane c at image +
/// c * plane_stride) into scratch.padded with a zero border wide enough for every window
/// of every tile, the last run's padded pixels included, and sets scratch.offsets[r] to
/// where kernel row r = (c*kh + i)*kw + j reads, relative to its output pixel, for r <
/// rows (rows >= g.col_rows(); the rows past it read the buffer's first value, never
/// used). Returns the bordered width.
template <class T>
conv_index pad_image(const T* image, conv_index plane_stride, const ConvGeometry& g, conv_index rows,
                     DirectConvScratch<T>& scratch) {
    constexpr conv_index P = DirectConvBlocking<T>::pixels;
    const conv_index runs = (g.out_w + P - 1) / P;
    const conv_index ph = g.out_h + g.kernel_h - 1, pw = runs * P + g.kernel_w - 1, plane = ph * pw;
    scratch.padded.assign(static_cast<std::size_t>(g.channels * plane), T(0));
    for (conv_index c = 0; c < g.channels; ++c)
        for (conv_index y = 0; y < g.height; ++y) {
            const conv_index py = y + g.pad_top;
            if (py < 0 || py >= ph) continue;  // read by no window (not in the geometries Conv2D makes)
            const conv_index x0 = std::max<conv_index>(0, -g.pad_left);
            const conv_index x1 = std::min<conv_index>(g.width, pw - g.pad_left);
            if (x1 > x0)
                std::memcpy(scratch.padded.data() + c * plane + py * pw + x0 + g.pad_left,
                            image + c * plane_stride + y * g.width + x0, static_cast<std::size_t>(x1 - x0) * sizeof(T));
        }
    scratch.offsets.assign(static_cast<std::size_t>(rows), 0);
    for (conv_index c = 0; c < g.channels; ++c)
        for (conv_index i = 0; i < g.kernel_h; ++i)
            for (conv_index j = 0; j < g.kernel_w; ++j)
                scratch.offsets[static_cast<std::size_t>((c * g.kernel_h + i) * g.kernel_w + j)] = c * plane + i * pw + j;
    return pw;
}

/// Convolves one image (g.channels planes of g.height x g.width, plane c at
/// image + c * plane_stride) with stride 1 (g.stride must be 1) into out (filters planes of
/// g.out_h x g.out_w, CHW), adding bias (filters values, or nullptr) and applying ReLU if
/// asked. `packed` is pack_direct_kernel(kernel, filters, g.col_rows()).
template <class T>
void direct_conv(const T* image, conv_index plane_stride, const ConvGeometry& g, const T* packed, conv_index filters,
                 const T* bias, bool relu, T* out, DirectConvScratch<T>& scratch) {
    using B = DirectConvBlocking<T>;
    constexpr conv_index P = B::pixels, CB = B::channels;
    const conv_index depth = g.col_rows();
    const conv_index pw = pad_image(image, plane_stride, g, depth, scratch);

    alignas(64) T tile[P][CB];
    const conv_index spatial = g.out_h * g.out_w;
    for (conv_index b = 0; b * CB < filters; ++b) {
        const T* w = packed + b * depth * CB;
        const conv_index channels = std::min(CB, filters - b * CB);
        for (conv_index y = 0; y < g.out_h; ++y)
            for (conv_index x = 0; x < g.out_w; x += P) {
                direct_tile<T>(scratch.padded.data() + y * pw + x, scratch.offsets.data(), depth, w, tile);
                const conv_index count = std::min(P, g.out_w - x);
                for (conv_index o = 0; o < channels; ++o) {
                    const T add = bias ? bias[b * CB + o] : T(0);
                    T* dst = out + (b * CB + o) * spatial + y * g.out_w + x;
                    for (conv_index p = 0; p < count; ++p) {
                        const T v = tile[p][o] + add;
                        dst[p] = relu && !(v > T(0)) ? T(0) : v;
                    }
                }
            }
    }
}

/// One tile of a kernel gradient: acc[r][0..V*lanes) = sum over the out_h x out_w output
/// pixels p = (y, x) of gt[p*ldg + 0..V*lanes) * in[offsets[r] + y*pw + x], for r < R,
/// stored to tile (R x V*lanes) or, with accumulate, added to it (tile + the image's sum,
/// the same addition whichever layout holds the running sum).
/// R x V = 24 accumulators: 12 rows x 2 vectors, or 6 rows x 4 vectors where the filters
/// come in blocks of 4 vectors (fewer rows, so fewer scattered broadcasts per FMA).
template <class T, int R, int V, class Arch = xsimd::default_arch>
void direct_gradient_tile(const T* in, const conv_index* offsets, const T* gt, conv_index ldg, conv_index out_h,
                          conv_index out_w, conv_index pw, bool accumulate, T* tile /* R x V*lanes */) {
    using batch = xsimd::batch<T, Arch>;
    constexpr int L = static_cast<int>(batch::size);
    batch acc[R][V];
    conv_index at[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
        at[r] = offsets[r];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[r][v] = batch(T(0));
    }
    for (conv_index y = 0; y < out_h; ++y) {
        const T* row = in + y * pw;
        const T* g = gt + y * out_w * ldg;
        for (conv_index x = 0; x < out_w; ++x) {
            batch b[V];
#pragma GCC unroll 4
            for (int v = 0; v < V; ++v) b[v] = batch::load_unaligned(g + x * ldg + v * L);
            const T* a = row + x;
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r) {
                const batch value(a[at[r]]);
#pragma GCC unroll 4
                for (int v = 0; v < V; ++v) acc[r][v] = xsimd::fma(value, b[v], acc[r][v]);
            }
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
            T* at_tile = tile + (r * V + v) * L;
            if (accumulate) acc[r][v] = batch::load_unaligned(at_tile) + acc[r][v];
            acc[r][v].store_unaligned(at_tile);
        }
}

/// Where direct_kernel_gradient keeps its sums: blocks of `filters` filters (the tile's
/// V vectors), each `depth` kernel rows (C*kh*kw rounded up to whole tiles of `rows`)
/// x `filters` values, so that every tile is one contiguous rows x filters run. ldg picks
/// the tile as direct_kernel_gradient does.
struct DirectGradientLayout {
    conv_index rows, filters, depth, blocks;
    [[nodiscard]] conv_index size() const { return blocks * depth * filters; }
};

/// The layout direct_kernel_gradient uses for G transposed with leading dimension ldg (a
/// multiple of DirectConvBlocking<T>::channels) and `depth` = C*kh*kw kernel rows.
template <class T>
DirectGradientLayout direct_gradient_layout(conv_index ldg, conv_index depth) {
    using B = DirectConvBlocking<T>;
    const bool wide = ldg % (2 * B::channels) == 0;
    const conv_index rows = wide ? B::pixels / 2 : B::pixels, filters = wide ? 2 * B::channels : B::channels;
    return {rows, filters, (depth + rows - 1) / rows * rows, ldg / filters};
}

/// dkernel[f * depth + r] = the sum `packed` (laid out as `layout`) holds for filter f and
/// kernel row r, for f < filters and r < depth: the filters x C*kh*kw kernel gradient,
/// the layout's padding dropped.
template <class T>
void unpack_direct_gradient(const T* packed, const DirectGradientLayout& layout, conv_index filters, conv_index depth,
                            T* dkernel) {
    for (conv_index f = 0; f < filters; ++f) {
        const T* src = packed + (f / layout.filters) * layout.depth * layout.filters + f % layout.filters;
        T* dst = dkernel + f * depth;
        for (conv_index r = 0; r < depth; ++r) dst[r] = src[r * layout.filters];
    }
}

/// direct_kernel_gradient with tiles of R kernel rows x V vectors of filters.
template <class T, int R, int V>
void direct_kernel_gradient_tiles(const T* image, conv_index plane_stride, const ConvGeometry& g, const T* gt,
                                  const DirectGradientLayout& layout, conv_index ldg, bool accumulate, T* packed,
                                  DirectConvScratch<T>& scratch) {
    const conv_index pw = pad_image(image, plane_stride, g, layout.depth, scratch);
    for (conv_index b = 0; b < layout.blocks; ++b)
        for (conv_index r0 = 0; r0 < layout.depth; r0 += R)
            direct_gradient_tile<T, R, V>(scratch.padded.data(), scratch.offsets.data() + r0, gt + b * layout.filters,
                                          ldg, g.out_h, g.out_w, pw, accumulate,
                                          packed + (b * layout.depth + r0) * layout.filters);
}

/// The kernel gradient of one image, stride 1: dkernel[f, (c*kh + i)*kw + j] (+)= sum over
/// the output pixels (y, x) of G[f, y, x] * in[c, y + i - pt, x + j - pl] (zero outside),
/// kept in `packed` as direct_gradient_layout<T>(ldg, g.col_rows()) lays it out
/// (unpack_direct_gradient reads it out). G comes transposed: gt[p*ldg + f] for output
/// pixel p = y*out_w + x, ldg a multiple of the channel block and gt zero for filters <=
/// f < ldg. accumulate: add to `packed` (successive images, in order) rather than
/// overwrite it. The image is as for direct_conv.
template <class T>
void direct_kernel_gradient(const T* image, conv_index plane_stride, const ConvGeometry& g, const T* gt,
                            conv_index ldg, bool accumulate, T* packed, DirectConvScratch<T>& scratch) {
    using B = DirectConvBlocking<T>;
    const DirectGradientLayout layout = direct_gradient_layout<T>(ldg, g.col_rows());
    if (layout.filters == 2 * B::channels)  // with AVX-512: 6 rows x 4 vectors
        direct_kernel_gradient_tiles<T, B::pixels / 2, 4>(image, plane_stride, g, gt, layout, ldg, accumulate, packed,
                                                          scratch);
    else  // 12 rows x 2 vectors
        direct_kernel_gradient_tiles<T, B::pixels, 2>(image, plane_stride, g, gt, layout, ldg, accumulate, packed,
                                                      scratch);
}

}  // namespace feral::detail::kernels
