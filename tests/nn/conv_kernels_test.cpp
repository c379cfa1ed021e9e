// im2col / col2im and the pooling kernels against their element-by-element twins, and the
// implicit im2col (GEMM panels packed from the images) against im2col + gemm.
#include "feral/core/random.hpp"
#include "feral/detail/kernels/conv_columns.hpp"
#include "feral/detail/kernels/direct_conv.hpp"
#include "feral/detail/kernels/gemm.hpp"
#include "feral/detail/kernels/im2col.hpp"
#include "feral/detail/kernels/pooling.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

using namespace feral::detail::kernels;

namespace {
std::vector<double> random_image(conv_index n, std::uint64_t seed) {
    feral::Random rng(seed);
    std::vector<double> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = rng.uniform(-1.0, 1.0);
    return v;
}

/// The column matrix of an image whose planes lie plane_stride apart (made contiguous for
/// im2col_reference): with gemm_reference, the twin of the direct convolution.
template <class T>
std::vector<T> reference_columns(const std::vector<T>& image, conv_index plane_stride, const ConvGeometry& g) {
    const conv_index plane = g.height * g.width;
    std::vector<T> contiguous(static_cast<std::size_t>(g.image_size()));
    for (conv_index c = 0; c < g.channels; ++c)
        std::copy_n(image.data() + c * plane_stride, plane, contiguous.data() + c * plane);
    std::vector<T> cols(static_cast<std::size_t>(g.col_rows() * g.col_cols()));
    im2col_reference(contiguous.data(), g, cols.data());
    return cols;
}

/// Every geometry of small sizes, kernels, strides and paddings (including pads larger
/// than the kernel overlap and images narrower than the kernel with padding).
std::vector<ConvGeometry> geometries() {
    std::vector<ConvGeometry> out;
    for (conv_index h : {1, 2, 5, 8})
        for (conv_index w : {1, 3, 7})
            for (conv_index k : {1, 2, 3, 5})
                for (conv_index s : {1, 2, 3})
                    for (conv_index pad : {0, 1, 2}) {
                        const conv_index oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1;
                        if (h + 2 * pad < k || w + 2 * pad < k) continue;
                        out.push_back({2, h, w, k, k, s, pad, pad, oh, ow});
                    }
    return out;
}
}  // namespace

TEST_CASE("im2col and col2im match their reference twins for every small geometry", "[nn][conv2d][kernels]") {
    for (const auto& g : geometries()) {
        INFO("H=" << g.height << " W=" << g.width << " k=" << g.kernel_h << " s=" << g.stride << " pad=" << g.pad_top);
        const auto image = random_image(g.image_size(), 1);
        std::vector<double> fast(static_cast<std::size_t>(g.col_rows() * g.col_cols()), 7.0), ref = fast;
        im2col(image.data(), g, fast.data());
        im2col_reference(image.data(), g, ref.data());
        REQUIRE(fast == ref);
        const auto cols = random_image(g.col_rows() * g.col_cols(), 2);
        std::vector<double> back(static_cast<std::size_t>(g.image_size()), 7.0), back_ref = back;
        col2im(cols.data(), g, back.data());
        col2im_reference(cols.data(), g, back_ref.data());
        REQUIRE(back == back_ref);
    }
}

TEST_CASE("col2im is the adjoint of im2col", "[nn][conv2d][kernels]") {
    // <im2col(x), c> == <x, col2im(c)> for any x, c.
    const ConvGeometry g{3, 6, 5, 3, 3, 2, 1, 1, 3, 3};
    const auto x = random_image(g.image_size(), 3);
    const auto c = random_image(g.col_rows() * g.col_cols(), 4);
    std::vector<double> cols(c.size()), image(x.size());
    im2col(x.data(), g, cols.data());
    col2im(c.data(), g, image.data());
    double left = 0, right = 0;
    for (std::size_t i = 0; i < c.size(); ++i) left += cols[i] * c[i];
    for (std::size_t i = 0; i < x.size(); ++i) right += x[i] * image[i];
    REQUIRE(left == Approx(right).epsilon(1e-12));
}

namespace {
/// A block of `images` images (each image_stride apart, a little more than an image, so the
/// stride is honoured) multiplied through ConvColumns / ConvColumnsTransposed and through
/// the written-out column matrix with both tiles: the products must be bit-identical.
template <class T, int Vectors>
void check_implicit_columns(const ConvGeometry& g, conv_index images, conv_index rows, bool read_past_runs = true) {
    using Operand = GemmOperand<T>;
    feral::Random rng(static_cast<std::uint64_t>(g.height * 131 + g.width * 17 + g.kernel_h * 5 + g.stride));
    const conv_index image_stride = g.image_size() + 3, spatial = g.col_cols(), width = images * spatial;
    const conv_index depth = g.col_rows();
    std::vector<T> data(static_cast<std::size_t>(images * image_stride));
    for (auto& x : data) x = static_cast<T>(rng.uniform(-1.0, 1.0));
    std::vector<T> cols(static_cast<std::size_t>(depth * width));
    for (conv_index i = 0; i < images; ++i) im2col(data.data() + i * image_stride, g, cols.data() + i * spatial, width);
    // With `end`, short runs are copied as whole vectors reading past them; without, never.
    const ImageBlock<T> block{data.data(), image_stride, g.height * g.width,
                              read_past_runs ? data.data() + data.size() : nullptr};

    // rows x n = (random rows x k) * B, through the written-out operand and the panel source.
    auto require_same_product = [&](gemm_index n, gemm_index k, const Operand& written, const auto& implicit) {
        std::vector<T> a(static_cast<std::size_t>(rows * k));
        for (auto& x : a) x = static_cast<T>(rng.uniform(-1.0, 1.0));
        std::vector<T> expected(static_cast<std::size_t>(rows * n)), actual(expected.size());
        gemm_with_tile<T, xsimd::default_arch, Vectors>(rows, n, k, Operand::row_major(a.data(), k), written,
                                                        expected.data(), n, false);
        gemm_with_tile<T, xsimd::default_arch, Vectors>(rows, n, k, Operand::row_major(a.data(), k), implicit,
                                                        actual.data(), n, false);
        REQUIRE(actual == expected);
    };
    // Y = A * cols (the forward product) and D = G * cols^T (the kernel gradient's).
    require_same_product(width, depth, Operand::row_major(cols.data(), width), ConvColumns<T>{block, g});
    require_same_product(depth, width, Operand::transposed(cols.data(), width), ConvColumnsTransposed<T>{block, g});
}
}  // namespace

TEMPLATE_TEST_CASE("implicit im2col packs the same panels as im2col: bit-identical products for every small geometry",
                   "[nn][conv2d][kernels]", float, double) {
    for (const auto& g : geometries()) {
        INFO("H=" << g.height << " W=" << g.width << " k=" << g.kernel_h << " s=" << g.stride << " pad=" << g.pad_top);
        check_implicit_columns<TestType, 2>(g, 3, 5);
        check_implicit_columns<TestType, 3>(g, 3, 5);
        check_implicit_columns<TestType, 3>(g, 3, 5, false);
    }
}

TEMPLATE_TEST_CASE("implicit im2col crosses the GEMM's K and N blocks and panels of many images", "[nn][conv2d][kernels]",
                   float, double) {
    // 20 channels x 3x3 = 180 kernel rows (two K blocks); 2 images of 48x48 = 4608 columns
    // (past NC); 10 images of 5x5 give runs of 5 pixels that cross image boundaries in a strip.
    check_implicit_columns<TestType, 2>({20, 48, 48, 3, 3, 1, 1, 1, 48, 48}, 2, 9);
    check_implicit_columns<TestType, 3>({20, 48, 48, 3, 3, 1, 1, 1, 48, 48}, 2, 9);
    check_implicit_columns<TestType, 3>({7, 5, 5, 3, 3, 1, 1, 1, 5, 5}, 10, 13);
    check_implicit_columns<TestType, 3>({7, 5, 5, 3, 3, 1, 1, 1, 5, 5}, 10, 13, false);
    check_implicit_columns<TestType, 2>({16, 12, 12, 3, 3, 1, 1, 1, 12, 12}, 8, 16);
    // The geometry of Conv2D's input gradient: G (6 filters, 7x8) padded by k - 1 = 4,
    // giving the 11x12 input of a 'valid' 5x5 convolution.
    check_implicit_columns<TestType, 3>({6, 7, 8, 5, 5, 1, 4, 4, 11, 12}, 3, 10);
    check_implicit_columns<TestType, 2>({6, 7, 8, 5, 5, 1, 4, 4, 11, 12}, 3, 10, false);
    check_implicit_columns<TestType, 2>({7, 9, 9, 4, 4, 2, 1, 1, 4, 4}, 10, 13);
}

TEMPLATE_TEST_CASE("the direct convolution equals im2col + GEMM for partial tiles, paddings, strides between planes",
                   "[nn][conv2d][kernels]", float, double) {
    using T = TestType;
    constexpr conv_index CB = DirectConvBlocking<T>::channels, P = DirectConvBlocking<T>::pixels;
    feral::Random rng(17);
    DirectConvScratch<T> scratch;  // reused across geometries, as Conv2D's threads reuse theirs
    // {channels, height, width, k, pad_top, pad_left, out_h, out_w}: 'same' odd and even
    // kernels, 'valid', a transposed-convolution geometry (pad k - 1), a 1x1 kernel; widths
    // below, at and past a run of P pixels.
    const std::vector<ConvGeometry> shapes = {
        {3, 7, 13, 3, 3, 1, 1, 1, 7, 13},  {5, 6, 5, 4, 4, 1, 1, 1, 6, 5},     {2, 9, 2 * P + 3, 5, 5, 1, 0, 0, 5, 2 * P - 1},
        {4, 5, 6, 3, 3, 1, 2, 2, 7, 8},    {6, 4, P, 1, 1, 1, 0, 0, 4, P},     {1, 12, 12, 3, 3, 1, 1, 1, 12, 12},
    };
    for (const ConvGeometry& g : shapes)
        for (const conv_index filters : {conv_index{1}, CB - 1, CB, CB + 3}) {
            for (const bool relu : {false, true}) {
                INFO("C=" << g.channels << " H=" << g.height << " W=" << g.width << " k=" << g.kernel_h
                          << " filters=" << filters << " relu=" << relu);
                const conv_index plane = g.height * g.width, stride = plane + 7;  // planes apart, as in a block of images
                std::vector<T> image(static_cast<std::size_t>(g.channels * stride)), kernel(static_cast<std::size_t>(filters * g.col_rows())),
                    bias(static_cast<std::size_t>(filters));
                for (auto& v : image) v = static_cast<T>(rng.uniform(-1, 1));
                for (auto& v : kernel) v = static_cast<T>(rng.uniform(-1, 1));
                for (auto& v : bias) v = static_cast<T>(rng.uniform(-1, 1));
                std::vector<T> packed;
                pack_direct_kernel(kernel.data(), filters, g.col_rows(), packed);
                const auto size = static_cast<std::size_t>(filters * g.col_cols());
                std::vector<T> out(size + 5, T(42)), expected(size);
                // Expected: kernel * cols + bias, ReLU'd (gemm_reference's epilogue).
                const std::vector<T> cols = reference_columns(image, stride, g);
                const conv_index depth = g.col_rows(), spatial = g.col_cols();
                const auto reference = [&](const T* b) {
                    GemmEpilogue<T> e;
                    e.row_bias = b;
                    e.relu = relu;
                    gemm_reference<T>(filters, spatial, depth, GemmOperand<T>::row_major(kernel.data(), depth),
                                      GemmOperand<T>::row_major(cols.data(), spatial), expected.data(), spatial, false, e);
                };
                direct_conv(image.data(), stride, g, packed.data(), filters, bias.data(), relu, out.data(), scratch);
                reference(bias.data());
                const T tolerance = std::is_same_v<T, float> ? T(1e-5) : T(1e-12);
                for (std::size_t i = 0; i < size; ++i) REQUIRE(std::abs(out[i] - expected[i]) <= tolerance * (1 + std::abs(expected[i])));
                for (std::size_t i = size; i < out.size(); ++i) REQUIRE(out[i] == T(42));  // nothing written past the output
                // Without bias, one more time: the scratch buffers carry nothing over.
                direct_conv(image.data(), stride, g, packed.data(), filters, static_cast<const T*>(nullptr), relu, out.data(), scratch);
                reference(nullptr);
                for (std::size_t i = 0; i < size; ++i) REQUIRE(std::abs(out[i] - expected[i]) <= tolerance * (1 + std::abs(expected[i])));
            }
        }
}

TEMPLATE_TEST_CASE("the direct kernel gradient equals G times the column matrix, overwriting and accumulating",
                   "[nn][conv2d][kernels]", float, double) {
    using T = TestType;
    constexpr conv_index CB = DirectConvBlocking<T>::channels, P = DirectConvBlocking<T>::pixels;
    feral::Random rng(23);
    DirectConvScratch<T> scratch;
    // Kernel rows (C*k*k) below, at and past a tile of P rows; 'same', 'valid', even kernels.
    const std::vector<ConvGeometry> shapes = {
        {3, 7, 13, 3, 3, 1, 1, 1, 7, 13}, {5, 6, 5, 4, 4, 1, 1, 1, 6, 5}, {2, 9, 11, 5, 5, 1, 0, 0, 5, 7},
        {1, 12, 12, 3, 3, 1, 1, 1, 12, 12}, {P, 4, 6, 1, 1, 1, 0, 0, 4, 6},
    };
    for (const ConvGeometry& g : shapes)
        for (const conv_index filters : {conv_index{1}, CB - 1, CB, CB + 3}) {
            INFO("C=" << g.channels << " H=" << g.height << " W=" << g.width << " k=" << g.kernel_h << " filters=" << filters);
            const conv_index plane = g.height * g.width, stride = plane + 5, spatial = g.col_cols();
            const conv_index ldg = (filters + CB - 1) / CB * CB, depth = g.col_rows();
            std::vector<T> image(static_cast<std::size_t>(g.channels * stride)), grad(static_cast<std::size_t>(filters * spatial));
            for (auto& v : image) v = static_cast<T>(rng.uniform(-1, 1));
            for (auto& v : grad) v = static_cast<T>(rng.uniform(-1, 1));
            std::vector<T> gt(static_cast<std::size_t>(spatial * ldg), T(0));
            for (conv_index f = 0; f < filters; ++f)
                for (conv_index p = 0; p < spatial; ++p) gt[static_cast<std::size_t>(p * ldg + f)] = grad[static_cast<std::size_t>(f * spatial + p)];
            const auto size = static_cast<std::size_t>(filters * depth);
            const DirectGradientLayout layout = direct_gradient_layout<T>(ldg, depth);
            const auto packed_size = static_cast<std::size_t>(layout.size());
            REQUIRE(layout.depth >= depth);
            REQUIRE(layout.blocks * layout.filters >= filters);
            std::vector<T> packed(packed_size + 3, T(42)), dk(size + 3, T(42)), expected(size);
            direct_kernel_gradient(image.data(), stride, g, gt.data(), ldg, false, packed.data(), scratch);
            for (std::size_t i = packed_size; i < packed.size(); ++i) REQUIRE(packed[i] == T(42));  // nothing past the layout
            unpack_direct_gradient(packed.data(), layout, filters, depth, dk.data());
            // Expected: G * cols^T.
            const std::vector<T> cols = reference_columns(image, stride, g);
            gemm_reference<T>(filters, depth, spatial, GemmOperand<T>::row_major(grad.data(), spatial),
                              GemmOperand<T>::transposed(cols.data(), spatial), expected.data(), depth, false);
            const T tolerance = std::is_same_v<T, float> ? T(1e-5) : T(1e-12);
            for (std::size_t i = 0; i < size; ++i) REQUIRE(std::abs(dk[i] - expected[i]) <= tolerance * (1 + std::abs(expected[i])));
            for (std::size_t i = size; i < dk.size(); ++i) REQUIRE(dk[i] == T(42));  // nothing written past dkernel
            // Accumulating the same image again doubles it.
            direct_kernel_gradient(image.data(), stride, g, gt.data(), ldg, true, packed.data(), scratch);
            unpack_direct_gradient(packed.data(), layout, filters, depth, dk.data());
            for (std::size_t i = 0; i < size; ++i)
                REQUIRE(std::abs(dk[i] - 2 * expected[i]) <= 2 * tolerance * (1 + std::abs(expected[i])));
        }
}

TEST_CASE("the 2x2 stride-2 pooling fast paths equal the general loops, ties going to the first maximum", "[nn][pool][kernels]") {
    for (conv_index h : {2, 3, 6, 7})
        for (conv_index w : {2, 5, 8}) {
            const ConvGeometry g{3, h, w, 2, 2, 2, 0, 0, (h - 2) / 2 + 1, (w - 2) / 2 + 1};
            auto image = random_image(g.image_size(), 5);
            for (std::size_t i = 0; i < image.size(); i += 3) image[i] = 0.5;  // plenty of ties
            const auto n_out = static_cast<std::size_t>(g.channels * g.out_h * g.out_w);
            std::vector<double> y(n_out), y_ref(n_out), a(n_out), a_ref(n_out);
            std::vector<std::int32_t> arg(n_out), arg_ref(n_out);
            max_pool_forward(image.data(), g, y.data(), arg.data());
            max_pool_forward_reference(image.data(), g, y_ref.data(), arg_ref.data());
            REQUIRE(y == y_ref);
            REQUIRE(arg == arg_ref);
            avg_pool_forward(image.data(), g, a.data());
            avg_pool_forward_reference(image.data(), g, a_ref.data());
            for (std::size_t i = 0; i < n_out; ++i) REQUIRE(a[i] == Approx(a_ref[i]).epsilon(1e-15));
        }
}
