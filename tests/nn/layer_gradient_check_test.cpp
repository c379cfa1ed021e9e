// Every layer's backward pass against central differences in double precision.
#include "gradient_check.hpp"

#include "feral/nn/avg_pool2d.hpp"
#include "feral/nn/batch_norm.hpp"
#include "feral/nn/conv2d.hpp"
#include "feral/nn/dense.hpp"
#include "feral/nn/dropout.hpp"
#include "feral/nn/flatten.hpp"
#include "feral/nn/max_pool2d.hpp"
#include "feral/nn/relu.hpp"
#include "feral/nn/softmax.hpp"
#include "feral/nn/softmax_cross_entropy.hpp"

#include <catch2/catch.hpp>

using namespace feral;
using feral::test::gradient_check;
using feral::test::random_input;

namespace {
constexpr double kTolerance = 1e-6;

void require_small(const feral::test::GradientCheckResult& r) {
    INFO("worst: " << r.worst);
    REQUIRE(r.max_input_error < kTolerance);
    REQUIRE(r.max_parameter_error < kTolerance);
}

/// Randomises a layer's parameters (biases start at zero, which would hide bias bugs).
void randomise_parameters(nn::Layer<double>& layer, std::uint64_t seed) {
    Random rng(seed);
    for (auto& p : layer.parameters())
        for (Index i = 0; i < p.value->size(); ++i) p.value->data()[i] = rng.uniform(-0.5, 0.5);
}
}  // namespace

TEST_CASE("Conv2D gradients match finite differences for valid and same padding, strides and fused ReLU", "[nn][conv2d][gradient]") {
    struct Case {
        nn::Shape input;
        nn::Conv2D<double>::Config config;
        double h = 1e-6;  // finite-difference step
    };
    const std::vector<Case> cases = {
        {{2, 7, 6}, {.filters = 3, .kernel_size = 3}},
        {{2, 7, 6}, {.filters = 3, .kernel_size = 3, .padding = nn::Padding::same}},
        {{3, 8, 9}, {.filters = 4, .kernel_size = 3, .stride = 2, .padding = nn::Padding::same}},
        {{1, 9, 8}, {.filters = 2, .kernel_size = 4, .stride = 3, .padding = nn::Padding::valid}},
        {{2, 6, 6}, {.filters = 5, .kernel_size = 2, .stride = 2, .padding = nn::Padding::same,
                     .activation = nn::Activation::relu}},
        {{2, 5, 5}, {.filters = 2, .kernel_size = 1, .use_bias = false}},
        // 32x32 outputs: one image per GEMM and several gradient groups (small images are blocked).
        {{1, 34, 34}, {.filters = 2, .kernel_size = 3, .activation = nn::Activation::relu}},
        // At least kMinTransposedDepth kernel rows with stride 1: dX is a transposed
        // convolution, over a block of images, with an even kernel (uneven 'same' padding),
        // and one image per GEMM (checked below) ...
        {{114, 5, 4}, {.filters = 3, .kernel_size = 3}},
        {{64, 6, 5}, {.filters = 4, .kernel_size = 4, .padding = nn::Padding::same, .activation = nn::Activation::relu}},
        // (Its objective sums 19,000 outputs, whose rounding, about 1e-12, would swamp a 1e-6
        // step; without ReLU it is linear in every value, so a 1e-4 step is exact.)
        {{41, 32, 33}, {.filters = 2, .kernel_size = 5, .padding = nn::Padding::same}, 1e-4},
        // ... but not with a stride above 1.
        {{114, 7, 7}, {.filters = 3, .kernel_size = 3, .stride = 2, .padding = nn::Padding::same}},
        // At least kMinDirectDepth kernel rows both ways with stride 1: forward and dX are
        // direct convolutions, with partial blocks of output channels and of pixels, 'same'
        // and 'valid', an even kernel (linear, so the larger step is exact, as above).
        {{32, 3, 13}, {.filters = 33, .kernel_size = 3, .padding = nn::Padding::same}, 1e-4},
        {{32, 5, 6}, {.filters = 40, .kernel_size = 4, .activation = nn::Activation::relu}},
    };
    using Method = nn::Conv2D<double>::DataGradient;
    // How each case computes dX, and whether its forward pass is direct.
    const std::vector<Method> methods = {Method::col2im,     Method::col2im,     Method::col2im, Method::col2im,
                                         Method::col2im,     Method::col2im,     Method::col2im, Method::transposed,
                                         Method::transposed, Method::transposed, Method::col2im, Method::direct,
                                         Method::direct};
    const std::vector<bool> direct_forward = {false, false, false, false, false, false, false,
                                              false, false, false, false, true,  true};
    REQUIRE(methods.size() == cases.size());
    for (std::size_t c = 0; c < cases.size(); ++c) {
        INFO("case " << c);
        nn::Conv2D<double> conv(cases[c].config);
        Random rng(c);
        conv.build(cases[c].input, rng);
        REQUIRE(conv.data_gradient() == methods[c]);
        REQUIRE(conv.direct() == direct_forward[c]);
        randomise_parameters(conv, 10 + c);
        // 9 images: blocks and gradient groups with a partial last one.
        const auto X = random_input(9, cases[c].input.size(), 20 + c);
        require_small(gradient_check(conv, X, true, {}, 60, cases[c].h));
    }
}

TEST_CASE("Dense gradients match finite differences with and without bias and ReLU", "[nn][dense][gradient]") {
    for (int variant = 0; variant < 3; ++variant) {
        nn::Dense<double>::Config config{.units = 7};
        if (variant == 1) config.activation = nn::Activation::relu;
        if (variant == 2) config.use_bias = false;
        nn::Dense<double> dense(config);
        Random rng(3);
        dense.build({2, 3, 4}, rng);
        randomise_parameters(dense, 4);
        require_small(gradient_check(dense, random_input(5, 24, 5)));
    }
}

TEST_CASE("MaxPool2D and AvgPool2D gradients match finite differences", "[nn][pool][gradient]") {
    for (Index pool : {2, 3}) {
        for (Index stride : {0, 1, 2}) {
            INFO("pool " << pool << " stride " << stride);
            nn::MaxPool2D<double> maxpool({.pool_size = pool, .stride = stride});
            nn::AvgPool2D<double> avgpool({.pool_size = pool, .stride = stride});
            Random rng(1);
            maxpool.build({2, 7, 8}, rng);
            avgpool.build({2, 7, 8}, rng);
            const auto X = random_input(3, 2 * 7 * 8, 9);  // distinct values: no ties within 1e-6
            require_small(gradient_check(maxpool, X));
            require_small(gradient_check(avgpool, X));
        }
    }
}

TEST_CASE("BatchNorm gradients match finite differences in training and inference, for conv and dense inputs", "[nn][batch_norm][gradient]") {
    for (const nn::Shape shape : {nn::Shape{3, 4, 5}, nn::Shape{6, 1, 1}}) {
        for (bool training : {true, false}) {
            INFO("shape " << to_string(shape) << " training " << training);
            nn::BatchNorm<double> bn;
            Random rng(2);
            bn.build(shape, rng);
            randomise_parameters(bn, 7);
            bn.moving_mean().setConstant(0.1);
            bn.moving_variance().setConstant(0.7);
            require_small(gradient_check(bn, random_input(5, shape.size(), 8), training));
        }
    }
}

TEST_CASE("Dropout, ReLU, Flatten and Softmax gradients match finite differences", "[nn][gradient]") {
    Random rng(1);
    const auto X = random_input(4, 30, 11, 1e-3);
    nn::Dropout<double> dropout({.rate = 0.3});
    dropout.build({3, 2, 5}, rng);
    require_small(gradient_check(dropout, X, true, [&] { dropout.set_seed(99); }));
    nn::ReLU<double> relu;
    relu.build({3, 2, 5}, rng);
    require_small(gradient_check(relu, X));
    nn::Flatten<double> flatten;
    flatten.build({3, 2, 5}, rng);
    require_small(gradient_check(flatten, X));
    nn::Softmax<double> softmax;
    softmax.build({30, 1, 1}, rng);
    require_small(gradient_check(softmax, X));
}

TEST_CASE("SoftmaxCrossEntropy's gradient matches finite differences, with and without class weights", "[nn][loss][gradient]") {
    const auto Z = random_input(6, 5, 3);
    Labels y(6);
    y << 0, 4, 2, 2, 1, 3;
    const std::vector<double> weights = {1.0, 2.0, 0.5, 3.0, 1.5};
    nn::SoftmaxCrossEntropy<double> loss;
    for (bool weighted : {false, true}) {
        std::span<const double> w = weighted ? std::span<const double>(weights) : std::span<const double>();
        Matrix<double> grad;
        loss.loss(Z, y, &grad, w);
        const double h = 1e-6;
        for (Index i = 0; i < Z.size(); ++i) {
            Matrix<double> up = Z, down = Z;
            up.data()[i] += h;
            down.data()[i] -= h;
            const double numeric = (loss.loss(up, y, nullptr, w) - loss.loss(down, y, nullptr, w)) / (2 * h);
            REQUIRE(std::abs(numeric - grad.data()[i]) < 1e-8);
        }
    }
}
