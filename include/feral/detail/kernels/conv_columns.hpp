// feral/detail/kernels/conv_columns.hpp — implicit im2col: GEMM panels packed straight
// from the images, so the column matrix is never written out.
//
// Conv2D's products all read the column matrix cols of im2col.hpp (rows (c, i, j), one
// column per output pixel): Y = kernel * cols forward, dkernel = G * cols^T backward. For
// 128 channels and a 5x5 kernel, cols is 25 times the image, 7.4 MB for one 24x24 image:
// far beyond L2, so writing it and reading it back cost a quarter of the layer's time
// (benchmarks/RESULTS.md). The GEMM only ever needs one KC x NC panel of B at a time, packed
// into strips NR columns wide (gemm.hpp, pack_b); the two sources here pack that panel from
// the images themselves, which stay in cache:
//
//   ConvColumns<T>            B = cols     (K = C*kh*kw rows, N = output pixels)
//   ConvColumnsTransposed<T>  B = cols^T   (K = output pixels, N = C*kh*kw columns)
//
// They write exactly the values pack_b would copy out of cols, in the same places, so a
// product through them is bit-identical to im2col followed by gemm (tested).
//
// A block of images side by side (as im2col with ld, for small images): column p of the
// block's matrix is output pixel q = p mod OH*OW of image p / (OH*OW). ImageBlock says
// where image g's channel c is: the H x W row-major plane at
//   data + g * image_stride + c * channel_stride
// which also describes a block of gradients laid out filter-major (Conv2D's backward).
//
// How a panel is packed: its output pixels are cut into runs along one output row of one
// image; for a kernel row (c, i, j) a run reads one stretch of one input row (contiguous
// with stride 1), with zeros where the window hangs over the padding.
#pragma once

#include "feral/detail/kernels/gemm.hpp"
#include "feral/detail/kernels/im2col.hpp"

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <vector>

namespace feral::detail::kernels {

/// Where the images of a block are: image g's channel c is the plane at
/// data + g * image_stride + c * channel_stride (H x W, row-major). `end`, if given, is
/// one past the last value that may be read: a short run is then copied as one whole
/// vector, reading past its end (nullptr: never read past a run).
template <class T>
struct ImageBlock {
    const T* data = nullptr;
    conv_index image_stride = 0;
    conv_index channel_stride = 0;
    const T* end = nullptr;

    [[nodiscard]] const T* plane(conv_index image, conv_index channel) const {
        return data + image * image_stride + channel * channel_stride;
    }
};

namespace conv_columns_detail {

/// Output pixels ox_begin..ox_end-1 of output row oy of one image; `offset` is where the
/// first of them sits in the panel (its column in a strip, or its k row).
struct Run {
    conv_index image = 0, oy = 0, ox_begin = 0, ox_end = 0, offset = 0;
};

/// Cuts the block's columns [p, p + count) into runs, each within one output row of one
/// image. Returns the number of runs written to `runs` (at most count).
inline conv_index split_runs(const ConvGeometry& g, conv_index p, conv_index count, Run* runs) {
    const conv_index spatial = g.col_cols();
    conv_index n = 0;
    for (conv_index offset = 0; offset < count;) {
        const conv_index image = p / spatial, q = p - image * spatial;
        const conv_index oy = q / g.out_w, ox = q - oy * g.out_w;
        const conv_index length = std::min(g.out_w - ox, count - offset);
        runs[n++] = {image, oy, ox, ox + length, offset};
        p += length;
        offset += length;
    }
    return n;
}

/// Kernel row d as (c, i, j), and the output columns [first, last) whose input column
/// ox*s + j - pl lies inside the image (computed once per row: a run only clips it).
struct KernelRow {
    conv_index c = 0, i = 0, j = 0, first = 0, last = 0;

    KernelRow(const ConvGeometry& g, conv_index d)
        : c(d / (g.kernel_h * g.kernel_w)), i(d / g.kernel_w % g.kernel_h), j(d % g.kernel_w) {
        im2col_detail::valid_range(g, j, first, last);
    }

    void next(const ConvGeometry& g) {
        if (++j == g.kernel_w) {
            j = 0;
            if (++i == g.kernel_h) {
                i = 0;
                ++c;
            }
        }
        im2col_detail::valid_range(g, j, first, last);
    }
};

/// dst[0..n) = src[0..n) in whole vectors, the last one overlapping the one before (a
/// library memcpy call costs more than the copy for the 12-48 values of a run). A run
/// shorter than a vector (12x12 images) is one vector too where src + L <= read_end and
/// dst + L <= write_end: the values written past dst + n are overwritten later, because
/// a panel is packed in ascending order (see pack_panel).
template <class T>
void copy_run(T* dst, const T* src, conv_index n, const T* read_end, const T* write_end) {
    using batch = xsimd::batch<T>;
    constexpr conv_index L = batch::size;
    if (n < L) {
        if (n > 0 && src + L <= read_end && dst + L <= write_end) {
            batch::load_unaligned(src).store_unaligned(dst);
            return;
        }
        for (conv_index t = 0; t < n; ++t) dst[t] = src[t];
        return;
    }
    conv_index t = 0;
    for (; t + L <= n; t += L) batch::load_unaligned(src + t).store_unaligned(dst + t);
    if (t < n) batch::load_unaligned(src + n - L).store_unaligned(dst + n - L);
}

/// Kernel row d — plane is its channel of the run's image — at the run's output pixels:
/// out[t * step] = cols[d, pixel ox_begin + t], zero outside the image. read_end and
/// write_end: see copy_run (step 1 only).
template <class T>
void gather(const T* plane, const ConvGeometry& g, const KernelRow& d, const Run& r, T* out, conv_index step,
            const T* read_end = nullptr, const T* write_end = nullptr) {
    const conv_index y = r.oy * g.stride + d.i - g.pad_top;
    const conv_index length = r.ox_end - r.ox_begin;
    if (y < 0 || y >= g.height) {
        for (conv_index t = 0; t < length; ++t) out[t * step] = T(0);
        return;
    }
    const conv_index first = std::clamp(d.first, r.ox_begin, r.ox_end);
    const conv_index last = std::clamp(d.last, first, r.ox_end);
    const T* row = plane + y * g.width;
    const conv_index x_offset = d.j - g.pad_left;  // output column ox reads input column ox*s + x_offset
    conv_index ox = r.ox_begin;
    for (; ox < first; ++ox) out[(ox - r.ox_begin) * step] = T(0);
    if (step == 1 && g.stride == 1) {
        if (last > first)  // (row + first + x_offset may lie before the plane otherwise)
            copy_run(out + (first - r.ox_begin), row + first + x_offset, last - first, read_end, write_end);
        ox = last;
    } else {
        for (; ox < last; ++ox) out[(ox - r.ox_begin) * step] = row[ox * g.stride + x_offset];
    }
    for (; ox < r.ox_end; ++ox) out[(ox - r.ox_begin) * step] = T(0);
}

}  // namespace conv_columns_detail

/// B = the block's column matrix (C*kh*kw x images*OH*OW), packed from the images.
template <class T>
struct ConvColumns {
    ImageBlock<T> images;
    ConvGeometry geometry;

    template <int NR>
    void pack_panel(gemm_index kc, gemm_index nc, gemm_index pc, gemm_index jc, T* dst) const {
        using namespace conv_columns_detail;
        Run runs[NR];
        // Strips, rows and runs are written in ascending order, so a vector written past a
        // run's end only lands on values written afterwards, or on the panel's end.
        T* const panel_end = dst + (nc + NR - 1) / NR * NR * kc;
        for (gemm_index j0 = 0; j0 < nc; j0 += NR) {
            const gemm_index nr = std::min<gemm_index>(NR, nc - j0);
            T* strip = dst + j0 * kc;
            const conv_index n_runs = split_runs(geometry, jc + j0, nr, runs);
            KernelRow d(geometry, pc);
            for (gemm_index k = 0; k < kc; ++k, d.next(geometry)) {
                T* out = strip + k * NR;
                for (conv_index r = 0; r < n_runs; ++r)
                    gather(images.plane(runs[r].image, d.c), geometry, d, runs[r], out + runs[r].offset, 1,
                           images.end, panel_end);
                for (gemm_index t = nr; t < NR; ++t) out[t] = T(0);
            }
        }
    }
};

/// B = the transpose of the block's column matrix (images*OH*OW x C*kh*kw), packed from
/// the images (the kernel gradient's product, G * cols^T).
template <class T>
struct ConvColumnsTransposed {
    ImageBlock<T> images;
    ConvGeometry geometry;

    template <int NR>
    void pack_panel(gemm_index kc, gemm_index nc, gemm_index pc, gemm_index jc, T* dst) const {
        using namespace conv_columns_detail;
        thread_local std::vector<Run> runs;
        if (runs.size() < static_cast<std::size_t>(kc)) runs.resize(static_cast<std::size_t>(kc));
        const conv_index n_runs = split_runs(geometry, pc, kc, runs.data());
        for (gemm_index j0 = 0; j0 < nc; j0 += NR) {
            const gemm_index nr = std::min<gemm_index>(NR, nc - j0);
            T* strip = dst + j0 * kc;
            if (nr < NR)
                for (gemm_index k = 0; k < kc; ++k) std::fill(strip + k * NR + nr, strip + (k + 1) * NR, T(0));
            KernelRow d(geometry, jc + j0);
            for (gemm_index t = 0; t < nr; ++t, d.next(geometry))
                for (conv_index r = 0; r < n_runs; ++r)
                    gather(images.plane(runs[r].image, d.c), geometry, d, runs[r], strip + runs[r].offset * NR + t, NR);
        }
    }
};

}  // namespace feral::detail::kernels
