// feral/detail/kernels/im2col.hpp — unfolding one CHW image into convolution columns
// (im2col) and folding column gradients back (col2im), so a convolution is one GEMM.
//
// For a kernel kh x kw, stride s and top/left padding pt/pl, the column matrix `cols` has
//   rows    (c, i, j)  for c < C, i < kh, j < kw      (C*kh*kw rows, in that order)
//   columns (oy, ox)   for oy < OH, ox < OW           (OH*OW columns, row-major)
// and cols[(c,i,j), (oy,ox)] = x[c, oy*s + i - pt, ox*s + j - pl], or 0 outside the image.
// With the kernel stored as F x (C*kh*kw) (the row order above, i.e. PyTorch's OIHW
// flattened), Y[F x OH*OW] = kernel * cols is the convolution output in CHW order.
//
// col2im is the adjoint: image[c, y, x] = sum of every cols entry that im2col read from
// (c, y, x). It overwrites the image.
//
// `ld` is the distance between rows of `cols` (0 = OH*OW). A larger ld lets several
// images share one column matrix side by side (image g at column offset g*OH*OW), so one
// GEMM serves a block of small images.
//
// The fast versions copy whole output rows with stride 1 (the common case) and clip the
// padded borders once per row instead of testing every element; the *_reference twins are
// the element-by-element definitions above.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace feral::detail::kernels {

using conv_index = std::ptrdiff_t;

/// The geometry of one 2-D convolution or pooling window over a C x H x W image.
struct ConvGeometry {
    conv_index channels = 1, height = 0, width = 0;
    conv_index kernel_h = 1, kernel_w = 1;
    conv_index stride = 1;
    conv_index pad_top = 0, pad_left = 0;
    conv_index out_h = 0, out_w = 0;

    [[nodiscard]] conv_index col_rows() const { return channels * kernel_h * kernel_w; }
    [[nodiscard]] conv_index col_cols() const { return out_h * out_w; }
    [[nodiscard]] conv_index image_size() const { return channels * height * width; }
};

template <class T>
void im2col_reference(const T* image, const ConvGeometry& g, T* cols, conv_index ld = 0) {
    const conv_index n_cols = ld > 0 ? ld : g.col_cols();
    for (conv_index c = 0; c < g.channels; ++c)
        for (conv_index i = 0; i < g.kernel_h; ++i)
            for (conv_index j = 0; j < g.kernel_w; ++j) {
                T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * n_cols;
                for (conv_index oy = 0; oy < g.out_h; ++oy)
                    for (conv_index ox = 0; ox < g.out_w; ++ox) {
                        const conv_index y = oy * g.stride + i - g.pad_top, x = ox * g.stride + j - g.pad_left;
                        const bool inside = y >= 0 && y < g.height && x >= 0 && x < g.width;
                        row[oy * g.out_w + ox] = inside ? image[(c * g.height + y) * g.width + x] : T(0);
                    }
            }
}

template <class T>
void col2im_reference(const T* cols, const ConvGeometry& g, T* image, conv_index ld = 0) {
    std::fill(image, image + g.image_size(), T(0));
    const conv_index n_cols = ld > 0 ? ld : g.col_cols();
    for (conv_index c = 0; c < g.channels; ++c)
        for (conv_index i = 0; i < g.kernel_h; ++i)
            for (conv_index j = 0; j < g.kernel_w; ++j) {
                const T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * n_cols;
                for (conv_index oy = 0; oy < g.out_h; ++oy)
                    for (conv_index ox = 0; ox < g.out_w; ++ox) {
                        const conv_index y = oy * g.stride + i - g.pad_top, x = ox * g.stride + j - g.pad_left;
                        if (y >= 0 && y < g.height && x >= 0 && x < g.width)
                            image[(c * g.height + y) * g.width + x] += row[oy * g.out_w + ox];
                    }
            }
}

namespace im2col_detail {
/// The output columns ox whose input column ox*s + j - pl lies inside [0, W): [first, last).
inline void valid_range(const ConvGeometry& g, conv_index j, conv_index& first, conv_index& last) {
    const conv_index offset = j - g.pad_left;  // x = ox*s + offset
    if (g.stride == 1) {  // the same without divisions (the implicit im2col calls this per kernel row)
        last = std::clamp<conv_index>(g.width - offset, 0, g.out_w);
        first = std::min(std::max<conv_index>(-offset, 0), last);
        return;
    }
    first = offset >= 0 ? 0 : (-offset + g.stride - 1) / g.stride;
    last = g.width - offset <= 0 ? 0 : (g.width - offset + g.stride - 1) / g.stride;
    last = std::min(last, g.out_w);
    first = std::min(first, last);
}
}  // namespace im2col_detail

template <class T>
void im2col(const T* image, const ConvGeometry& g, T* cols, conv_index ld = 0) {
    const conv_index n_cols = ld > 0 ? ld : g.col_cols();
    for (conv_index c = 0; c < g.channels; ++c) {
        const T* plane = image + c * g.height * g.width;
        for (conv_index i = 0; i < g.kernel_h; ++i)
            for (conv_index j = 0; j < g.kernel_w; ++j) {
                T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * n_cols;
                conv_index first, last;
                im2col_detail::valid_range(g, j, first, last);
                const conv_index x0 = first * g.stride + j - g.pad_left;
                for (conv_index oy = 0; oy < g.out_h; ++oy) {
                    T* out = row + oy * g.out_w;
                    const conv_index y = oy * g.stride + i - g.pad_top;
                    if (y < 0 || y >= g.height) {
                        std::fill(out, out + g.out_w, T(0));
                        continue;
                    }
                    std::fill(out, out + first, T(0));
                    const T* in = plane + y * g.width + x0;
                    if (g.stride == 1) {
                        std::memcpy(out + first, in, static_cast<std::size_t>(last - first) * sizeof(T));
                    } else {
                        for (conv_index ox = first; ox < last; ++ox) out[ox] = in[(ox - first) * g.stride];
                    }
                    std::fill(out + last, out + g.out_w, T(0));
                }
            }
    }
}

template <class T>
void col2im(const T* cols, const ConvGeometry& g, T* image, conv_index ld = 0) {
    std::fill(image, image + g.image_size(), T(0));
    const conv_index n_cols = ld > 0 ? ld : g.col_cols();
    for (conv_index c = 0; c < g.channels; ++c) {
        T* plane = image + c * g.height * g.width;
        for (conv_index i = 0; i < g.kernel_h; ++i)
            for (conv_index j = 0; j < g.kernel_w; ++j) {
                const T* row = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * n_cols;
                conv_index first, last;
                im2col_detail::valid_range(g, j, first, last);
                const conv_index x0 = first * g.stride + j - g.pad_left;
                for (conv_index oy = 0; oy < g.out_h; ++oy) {
                    const conv_index y = oy * g.stride + i - g.pad_top;
                    if (y < 0 || y >= g.height) continue;
                    const T* in = row + oy * g.out_w;
                    T* out = plane + y * g.width + x0;
                    if (g.stride == 1) {
                        for (conv_index ox = first; ox < last; ++ox) out[ox - first] += in[ox];
                    } else {
                        for (conv_index ox = first; ox < last; ++ox) out[(ox - first) * g.stride] += in[ox];
                    }
                }
            }
    }
}

}  // namespace feral::detail::kernels
