// Layers against PyTorch 1.13 (tests/fixtures/nn/torch_*.txt, written by
// tools/fixtures/make_torch_layer_fixtures.py): same weights, same input, same upstream
// gradient -> same output, input gradient and parameter gradients.
#include "fixture_reader.hpp"
#include "test_support.hpp"

#include "feral/nn/avg_pool2d.hpp"
#include "feral/nn/batch_norm.hpp"
#include "feral/nn/conv2d.hpp"
#include "feral/nn/dense.hpp"
#include "feral/nn/max_pool2d.hpp"
#include "feral/nn/softmax.hpp"
#include "feral/nn/softmax_cross_entropy.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace feral;
using feral::test::Fixture;

namespace {

/// float keeps ~7 digits; the layers' sums run over at most about a thousand terms.
template <class T>
constexpr double tolerance() {
    return std::is_same_v<T, float> ? 2e-4 : 1e-10;
}

template <class T>
void require_close(const Matrix<T>& actual, const Eigen::MatrixXd& expected, const std::string& what) {
    INFO(what);
    REQUIRE(actual.rows() == expected.rows());
    REQUIRE(actual.cols() == expected.cols());
    const double scale = std::max(1.0, expected.cwiseAbs().maxCoeff());
    const double error = (actual.template cast<double>() - expected).cwiseAbs().maxCoeff();
    CHECK(error <= tolerance<T>() * scale);
}

/// Runs forward + backward of a built layer and compares y, dx with the fixture.
template <class T>
void forward_backward(nn::Layer<T>& layer, const Fixture& f, const std::string& prefix = "", bool training = true) {
    const Matrix<T> x = f.as<T>(prefix + "x");
    Matrix<T> y, dx;
    layer.forward(x, y, training);
    require_close(y, f.matrix(prefix + "y"), prefix + "y");
    layer.backward(x, y, f.as<T>(prefix + "dy"), &dx);
    require_close(dx, f.matrix(prefix + "dx"), prefix + "dx");
}

}  // namespace

TEMPLATE_TEST_CASE("Conv2D matches PyTorch for valid/same padding, strides, fused ReLU and no bias", "[nn][conv2d][fixture]",
                   float, double) {
    for (const char* name : {"valid", "same", "same_stride2", "valid_stride2_k4", "same_k2_stride3", "wide_valid",
                             "wide_same_k5", "wide_same_k4", "direct_same", "direct_valid_k4"}) {
        INFO(name);
        const Fixture f(feral::test::fixture(std::string("nn/torch_conv2d_") + name + ".txt"));
        const auto cfg = f.matrix("config");  // c h w filters k stride same relu bias
        nn::Conv2D<TestType> conv({.filters = static_cast<Index>(cfg(0, 3)),
                                   .kernel_size = static_cast<Index>(cfg(0, 4)),
                                   .stride = static_cast<Index>(cfg(0, 5)),
                                   .padding = cfg(0, 6) != 0 ? nn::Padding::same : nn::Padding::valid,
                                   .activation = cfg(0, 7) != 0 ? nn::Activation::relu : nn::Activation::none,
                                   .use_bias = cfg(0, 8) != 0});
        Random rng(0);
        conv.set_threads(2);
        conv.build({static_cast<Index>(cfg(0, 0)), static_cast<Index>(cfg(0, 1)), static_cast<Index>(cfg(0, 2))}, rng);
        // The wide_* fixtures are there for the transposed-convolution input gradient, the
        // direct_* ones for direct convolutions both ways.
        const bool wide = std::string(name).starts_with("wide"), direct = std::string(name).starts_with("direct");
        using Method = typename nn::Conv2D<TestType>::DataGradient;
        REQUIRE(conv.direct() == direct);
        REQUIRE(conv.data_gradient() == (direct ? Method::direct : wide ? Method::transposed : Method::col2im));
        conv.kernel() = f.as<TestType>("kernel");
        if (cfg(0, 8) != 0) conv.bias() = f.as<TestType>("bias");
        forward_backward(conv, f);
        auto params = conv.parameters();
        require_close(*params[0].gradient, f.matrix("dkernel"), "dkernel");
        if (cfg(0, 8) != 0) require_close(*params[1].gradient, f.matrix("dbias"), "dbias");
    }
}

TEMPLATE_TEST_CASE("Dense with fused ReLU matches PyTorch's Linear + relu", "[nn][dense][fixture]", float, double) {
    const Fixture f(feral::test::fixture("nn/torch_dense.txt"));
    nn::Dense<TestType> dense({.units = 7, .activation = nn::Activation::relu});
    Random rng(0);
    dense.build({12, 1, 1}, rng);
    dense.kernel() = f.as<TestType>("kernel");
    dense.bias() = f.as<TestType>("bias");
    forward_backward(dense, f);
    auto params = dense.parameters();
    require_close(*params[0].gradient, f.matrix("dkernel"), "dkernel");
    require_close(*params[1].gradient, f.matrix("dbias"), "dbias");
}

TEMPLATE_TEST_CASE("MaxPool2D and AvgPool2D match PyTorch's floor-mode pooling", "[nn][pool][fixture]", float, double) {
    const Fixture f(feral::test::fixture("nn/torch_pool.txt"));
    for (auto [pool, stride] : {std::pair<Index, Index>{2, 2}, {3, 2}, {2, 1}}) {
        const std::string suffix = std::to_string(pool) + "_" + std::to_string(stride) + "_";
        Random rng(0);
        nn::MaxPool2D<TestType> maxpool({.pool_size = pool, .stride = stride});
        maxpool.build({2, 7, 9}, rng);
        forward_backward(maxpool, f, "max_" + suffix);
        nn::AvgPool2D<TestType> avgpool({.pool_size = pool, .stride = stride});
        avgpool.build({2, 7, 9}, rng);
        forward_backward(avgpool, f, "avg_" + suffix);
    }
}

TEMPLATE_TEST_CASE("BatchNorm matches PyTorch in training (batch statistics, running updates) and inference",
                   "[nn][batch_norm][fixture]", float, double) {
    for (const char* name : {"conv", "dense"}) {
        INFO(name);
        const Fixture f(feral::test::fixture(std::string("nn/torch_batch_norm_") + name + ".txt"));
        const auto s = f.matrix("shape");
        nn::BatchNorm<TestType> bn(nn::BatchNorm<TestType>::Config::torch(f.scalar("momentum_torch"), f.scalar("epsilon")));
        Random rng(0);
        bn.build({static_cast<Index>(s(0, 0)), static_cast<Index>(s(0, 1)), static_cast<Index>(s(0, 2))}, rng);
        bn.gamma() = f.as<TestType>("gamma");
        bn.beta() = f.as<TestType>("beta");
        bn.moving_mean() = f.as<TestType>("moving_mean0");
        bn.moving_variance() = f.as<TestType>("moving_variance0");
        forward_backward(bn, f);
        auto params = bn.parameters();
        require_close(*params[0].gradient, f.matrix("dgamma"), "dgamma");
        require_close(*params[1].gradient, f.matrix("dbeta"), "dbeta");
        require_close(bn.moving_mean(), f.matrix("moving_mean1"), "moving_mean after one step");
        require_close(bn.moving_variance(), f.matrix("moving_variance1"), "moving_variance after one step");
        const Matrix<TestType> x = f.as<TestType>("x_eval");
        Matrix<TestType> y, dx;
        bn.forward(x, y, false);
        require_close(y, f.matrix("y_eval"), "inference output");
        bn.backward(x, y, f.as<TestType>("dy"), &dx);
        require_close(dx, f.matrix("dx_eval"), "inference input gradient");
    }
}

TEMPLATE_TEST_CASE("SoftmaxCrossEntropy matches PyTorch, class weights follow Keras, and huge logits stay finite",
                   "[nn][loss][fixture]", float, double) {
    const Fixture f(feral::test::fixture("nn/torch_softmax_cross_entropy.txt"));
    const Matrix<TestType> z = f.as<TestType>("logits");
    const Labels y = f.labels("labels");
    nn::SoftmaxCrossEntropy<TestType> loss;
    Matrix<TestType> grad;
    CHECK(loss.loss(z, y, &grad) == Approx(f.scalar("loss")).epsilon(tolerance<TestType>()));
    require_close(grad, f.matrix("grad"), "grad");
    const Eigen::MatrixXd w = f.matrix("class_weight");
    const std::vector<double> weights(w.data(), w.data() + w.size());
    CHECK(loss.loss(z, y, &grad, weights) == Approx(f.scalar("weighted_loss")).epsilon(tolerance<TestType>()));
    require_close(grad, f.matrix("weighted_grad"), "weighted grad");
    CHECK(loss.loss(f.as<TestType>("big_logits"), f.labels("big_labels")) ==
          Approx(f.scalar("big_loss")).epsilon(tolerance<TestType>()));

    nn::Softmax<TestType> softmax;
    Random rng(0);
    softmax.build({7, 1, 1}, rng);
    Matrix<TestType> p;
    softmax.forward(z, p, false);
    require_close(p, f.matrix("softmax"), "softmax");
}
