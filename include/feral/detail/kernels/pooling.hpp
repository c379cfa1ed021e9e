// feral/detail/kernels/pooling.hpp — max and average pooling over one CHW image,
// windows pool_h x pool_w moved by `stride`, no padding (Keras 'valid': the output size
// is floor((H - pool) / stride) + 1, trailing rows/columns that do not fill a window are
// dropped).
//
//   max:  y[c, oy, ox] = max over the window of x;  argmax records the flat index in the
//         image of the first maximum (row-major scan, as PyTorch), so backward routes the
//         gradient there: dx[argmax] += dy.
//   avg:  y = mean over the window;  backward spreads dy / (pool_h*pool_w) over the window.
//
// The common 2x2 / stride 2 case has its own loops (two input rows per output row, no
// window bookkeeping), which the compiler vectorises; the general loops are the
// *_reference twins and serve every other geometry.
#pragma once

#include "feral/detail/kernels/im2col.hpp"

#include <algorithm>
#include <cstdint>

namespace feral::detail::kernels {

template <class T>
void max_pool_forward_reference(const T* x, const ConvGeometry& g, T* y, std::int32_t* argmax) {
    for (conv_index c = 0; c < g.channels; ++c)
        for (conv_index oy = 0; oy < g.out_h; ++oy)
            for (conv_index ox = 0; ox < g.out_w; ++ox) {
                conv_index best = (c * g.height + oy * g.stride) * g.width + ox * g.stride;
                for (conv_index i = 0; i < g.kernel_h; ++i)
                    for (conv_index j = 0; j < g.kernel_w; ++j) {
                        const conv_index at = (c * g.height + oy * g.stride + i) * g.width + ox * g.stride + j;
                        if (x[at] > x[best]) best = at;
                    }
                const conv_index out = (c * g.out_h + oy) * g.out_w + ox;
                y[out] = x[best];
                if (argmax) argmax[out] = static_cast<std::int32_t>(best);
            }
}

template <class T>
void max_pool_forward(const T* x, const ConvGeometry& g, T* y, std::int32_t* argmax) {
    if (g.kernel_h != 2 || g.kernel_w != 2 || g.stride != 2) {
        max_pool_forward_reference(x, g, y, argmax);
        return;
    }
    for (conv_index c = 0; c < g.channels; ++c)
        for (conv_index oy = 0; oy < g.out_h; ++oy) {
            const conv_index top = (c * g.height + 2 * oy) * g.width;
            const T* r0 = x + top;
            const T* r1 = r0 + g.width;
            T* out = y + (c * g.out_h + oy) * g.out_w;
            std::int32_t* arg = argmax ? argmax + (c * g.out_h + oy) * g.out_w : nullptr;
            for (conv_index ox = 0; ox < g.out_w; ++ox) {
                // Scan order (0,0) (0,1) (1,0) (1,1); strict '>' keeps the first maximum.
                const conv_index x0 = 2 * ox;
                T best = r0[x0];
                conv_index at = top + x0;
                if (r0[x0 + 1] > best) best = r0[x0 + 1], at = top + x0 + 1;
                if (r1[x0] > best) best = r1[x0], at = top + g.width + x0;
                if (r1[x0 + 1] > best) best = r1[x0 + 1], at = top + g.width + x0 + 1;
                out[ox] = best;
                if (arg) arg[ox] = static_cast<std::int32_t>(at);
            }
        }
}

/// dx = 0, then dx[argmax[o]] += dy[o] for every output o.
template <class T>
void max_pool_backward(const T* dy, const std::int32_t* argmax, const ConvGeometry& g, T* dx) {
    std::fill(dx, dx + g.image_size(), T(0));
    const conv_index n_out = g.channels * g.out_h * g.out_w;
    for (conv_index o = 0; o < n_out; ++o) dx[argmax[o]] += dy[o];
}

template <class T>
void avg_pool_forward_reference(const T* x, const ConvGeometry& g, T* y) {
    const T scale = T(1) / static_cast<T>(g.kernel_h * g.kernel_w);
    for (conv_index c = 0; c < g.channels; ++c)
        for (conv_index oy = 0; oy < g.out_h; ++oy)
            for (conv_index ox = 0; ox < g.out_w; ++ox) {
                T sum = 0;
                for (conv_index i = 0; i < g.kernel_h; ++i)
                    for (conv_index j = 0; j < g.kernel_w; ++j)
                        sum += x[(c * g.height + oy * g.stride + i) * g.width + ox * g.stride + j];
                y[(c * g.out_h + oy) * g.out_w + ox] = sum * scale;
            }
}

template <class T>
void avg_pool_forward(const T* x, const ConvGeometry& g, T* y) {
    if (g.kernel_h != 2 || g.kernel_w != 2 || g.stride != 2) {
        avg_pool_forward_reference(x, g, y);
        return;
    }
    for (conv_index c = 0; c < g.channels; ++c)
        for (conv_index oy = 0; oy < g.out_h; ++oy) {
            const T* r0 = x + (c * g.height + 2 * oy) * g.width;
            const T* r1 = r0 + g.width;
            T* out = y + (c * g.out_h + oy) * g.out_w;
            for (conv_index ox = 0; ox < g.out_w; ++ox)  // same summation order as the reference
                out[ox] = (((r0[2 * ox] + r0[2 * ox + 1]) + r1[2 * ox]) + r1[2 * ox + 1]) * T(0.25);
        }
}

template <class T>
void avg_pool_backward(const T* dy, const ConvGeometry& g, T* dx) {
    std::fill(dx, dx + g.image_size(), T(0));
    const T scale = T(1) / static_cast<T>(g.kernel_h * g.kernel_w);
    for (conv_index c = 0; c < g.channels; ++c)
        for (conv_index oy = 0; oy < g.out_h; ++oy)
            for (conv_index ox = 0; ox < g.out_w; ++ox) {
                const T share = dy[(c * g.out_h + oy) * g.out_w + ox] * scale;
                for (conv_index i = 0; i < g.kernel_h; ++i)
                    for (conv_index j = 0; j < g.kernel_w; ++j)
                        dx[(c * g.height + oy * g.stride + i) * g.width + ox * g.stride + j] += share;
            }
}

}  // namespace feral::detail::kernels
