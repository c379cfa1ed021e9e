// The layer contract: bad configurations and inputs throw typed errors naming the problem,
// results do not depend on the thread count, configurations round-trip through
// save_config/load_config, Dropout and the initialisers behave as documented.
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

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

using namespace feral;
using Catch::Matchers::Contains;

namespace {
Matrix<float> random_batch(Index rows, Index cols, std::uint64_t seed) {
    Random rng(seed);
    Matrix<float> x(rows, cols);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1.0, 1.0));
    return x;
}

template <class L>
std::vector<unsigned char> config_bytes(const L& layer) {
    ByteWriter w;
    layer.save_config(w);
    return w.bytes();
}

template <class L>
nn::LayerPtr<float> reload(const L& layer) {
    const auto bytes = config_bytes(layer);
    ByteReader r(bytes.data(), bytes.size(), "memory");
    auto loaded = L::load_config(r);
    r.expect_end();
    return loaded;
}
}  // namespace

TEST_CASE("layers reject impossible configurations when built, naming the value", "[nn][errors]") {
    Random rng(0);
    REQUIRE_THROWS_WITH(nn::Conv2D<float>({.filters = 0}).build({1, 8, 8}, rng),
                        Contains("Conv2D::build") && Contains("filters") && Contains("0"));
    REQUIRE_THROWS_AS(nn::Conv2D<float>({.filters = 4, .kernel_size = -1}).build({1, 8, 8}, rng), invalid_argument);
    REQUIRE_THROWS_AS(nn::Conv2D<float>({.filters = 4, .stride = 0}).build({1, 8, 8}, rng), invalid_argument);
    REQUIRE_THROWS_WITH(nn::Conv2D<float>({.filters = 4, .kernel_size = 5}).build({1, 4, 9}, rng),
                        Contains("larger than the input") && Contains("1x4x9"));
    // 'same' padding accepts a kernel larger than the input.
    REQUIRE(nn::Conv2D<float>({.filters = 4, .kernel_size = 5, .padding = nn::Padding::same}).build({1, 4, 4}, rng) ==
            nn::Shape{4, 4, 4});
    REQUIRE_THROWS_WITH(nn::MaxPool2D<float>({.pool_size = 3}).build({2, 2, 5}, rng), Contains("MaxPool2D::build"));
    REQUIRE_THROWS_AS(nn::AvgPool2D<float>({.pool_size = 0}).build({2, 4, 4}, rng), invalid_argument);
    REQUIRE_THROWS_WITH(nn::Dense<float>({.units = -3}).build({10, 1, 1}, rng), Contains("units") && Contains("-3"));
    REQUIRE_THROWS_WITH(nn::Dropout<float>({.rate = 1.0}).build({10, 1, 1}, rng), Contains("[0, 1)"));
    REQUIRE_THROWS_AS(nn::Dropout<float>({.rate = -0.1}).build({10, 1, 1}, rng), invalid_argument);
    REQUIRE_THROWS_AS(nn::Dropout<float>({.rate = std::nan("")}).build({10, 1, 1}, rng), invalid_argument);
    REQUIRE_THROWS_AS(nn::BatchNorm<float>({.momentum = 1.5}).build({3, 1, 1}, rng), invalid_argument);
    REQUIRE_THROWS_AS(nn::BatchNorm<float>({.epsilon = 0.0}).build({3, 1, 1}, rng), invalid_argument);
    REQUIRE_THROWS_AS(nn::ReLU<float>().build({0, 4, 4}, rng), invalid_argument);
}

TEST_CASE("layers reject inputs that do not match the built shape, and use before build", "[nn][errors]") {
    Random rng(0);
    nn::Conv2D<float> conv({.filters = 2});
    Matrix<float> y;
    REQUIRE_THROWS_WITH(conv.forward(random_batch(2, 64, 1), y, true), Contains("not built"));
    conv.build({1, 8, 8}, rng);
    // Two channels where one was built: the values per sample do not match.
    REQUIRE_THROWS_WITH(conv.forward(random_batch(2, 128, 1), y, true),
                        Contains("Conv2D::forward") && Contains("128") && Contains("1x8x8"));
    REQUIRE_THROWS_WITH(conv.forward(Matrix<float>(0, 64), y, true), Contains("empty batch"));
    const auto x = random_batch(2, 64, 1);
    conv.forward(x, y, true);
    Matrix<float> dx;
    REQUIRE_THROWS_WITH(conv.backward(x, y, Matrix<float>::Zero(3, y.cols()), &dx), Contains("grad_output"));
    nn::BatchNorm<float> bn;
    bn.build({4, 1, 1}, rng);
    REQUIRE_THROWS_WITH(bn.forward(random_batch(1, 4, 2), y, true), Contains("more than one value per channel"));
    bn.forward(random_batch(1, 4, 2), y, false);  // inference on one sample is fine
}

TEST_CASE("SoftmaxCrossEntropy rejects empty batches, bad labels, NaN logits and bad class weights", "[nn][errors][loss]") {
    nn::SoftmaxCrossEntropy<float> loss;
    Matrix<float> z = random_batch(3, 4, 1);
    Labels y(3);
    y << 0, 3, 1;
    REQUIRE_NOTHROW(loss.loss(z, y));
    REQUIRE_THROWS_WITH(loss.loss(Matrix<float>(0, 4), Labels(0)), Contains("empty batch"));
    Labels bad = y;
    bad[1] = 4;
    REQUIRE_THROWS_WITH(loss.loss(z, bad), Contains("label 4 at row 1"));
    bad[1] = -1;
    REQUIRE_THROWS_AS(loss.loss(z, bad), invalid_argument);
    REQUIRE_THROWS_WITH(loss.loss(z, Labels(2)), Contains("3 rows") && Contains("2 labels"));
    z(2, 1) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_WITH(loss.loss(z, y), Contains("row 2, column 1"));
    z(2, 1) = 0;
    const std::vector<double> three = {1, 1, 1}, negative = {1, -1, 1, 1};
    REQUIRE_THROWS_WITH(loss.loss(z, y, nullptr, three), Contains("3 class weights for 4 classes"));
    REQUIRE_THROWS_AS(loss.loss(z, y, nullptr, negative), invalid_argument);
}

TEST_CASE("SoftmaxCrossEntropy counts correct predictions (first maximum on ties)", "[nn][loss]") {
    Matrix<float> z(3, 3);
    z << 0.1f, 0.9f, 0.0f,   //
        2.0f, 2.0f, 1.0f,    // tie: class 0
        -1.0f, -2.0f, 3.0f;
    Labels y(3);
    y << 1, 1, 2;
    REQUIRE(nn::SoftmaxCrossEntropy<float>::count_correct(z, y) == 2);
}

TEST_CASE("Conv2D, Dense, pooling and BatchNorm give bit-identical results for 1, 2 and 3 threads", "[nn][threads]") {
    const auto x = random_batch(11, 3 * 12 * 12, 7);  // 11 images: uneven chunks and a partial gradient group
    auto run = [&](int threads) {
        Random rng(5);
        nn::Conv2D<float> conv({.filters = 8, .kernel_size = 3, .padding = nn::Padding::same,
                                .activation = nn::Activation::relu});
        nn::BatchNorm<float> bn;
        nn::MaxPool2D<float> pool;
        nn::Dense<float> dense({.units = 5});
        std::vector<nn::Layer<float>*> layers = {&conv, &bn, &pool, &dense};
        nn::Shape shape{3, 12, 12};
        for (auto* l : layers) {
            l->set_threads(threads);
            shape = l->build(shape, rng);
        }
        std::vector<Matrix<float>> acts(layers.size() + 1);
        acts[0] = x;
        for (std::size_t i = 0; i < layers.size(); ++i) layers[i]->forward(acts[i], acts[i + 1], true);
        Matrix<float> grad = random_batch(11, 5, 9), next;
        for (std::size_t i = layers.size(); i-- > 0;) {
            layers[i]->backward(acts[i], acts[i + 1], grad, &next);
            grad = next;
        }
        std::vector<Matrix<float>> result = {acts.back(), grad};
        for (auto* l : layers)
            for (auto& p : l->parameters()) result.push_back(*p.gradient);
        return result;
    };
    const auto one = run(1), two = run(2), three = run(3);
    REQUIRE(one.size() == two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        REQUIRE(one[i] == two[i]);
        REQUIRE(one[i] == three[i]);
    }
}

TEST_CASE("Conv2D's transposed and direct input gradients equal col2im(kernel^T G), for every thread count",
          "[nn][conv2d][threads]") {
    // 114 channels x 3x3 = 1,026 kernel rows: with 5 filters dX is the transposed convolution
    // (12x12 maps go 8 images per GEMM, a block of 8 and one of 3; 33x32 maps one image per
    // GEMM), with 40 a direct one (and so is the forward pass).
    using Method = nn::Conv2D<float>::DataGradient;
    struct Case {
        Index size, filters;
        Method method;
    };
    for (const Case& c : {Case{12, 5, Method::transposed}, Case{33, 5, Method::transposed}, Case{12, 40, Method::direct}}) {
        const Index size = c.size, filters = c.filters;
        const Method method = c.method;
        INFO("size " << size << ", " << filters << " filters");
        const nn::Shape input{114, size, size - 1};
        const Index n = 11;
        const auto x = random_batch(n, input.size(), 3);
        auto run = [&](int threads, Matrix<float>& y, Matrix<float>& dy, Matrix<float>& dx) {
            nn::Conv2D<float> conv({.filters = filters, .kernel_size = 3, .padding = nn::Padding::same,
                                    .activation = nn::Activation::relu});
            Random rng(4);
            conv.set_threads(threads);
            conv.build(input, rng);
            REQUIRE(conv.direct() == (filters >= 32));
            REQUIRE(conv.data_gradient() == method);
            conv.forward(x, y, true);
            dy = random_batch(n, y.cols(), 6);
            conv.backward(x, y, dy, &dx);
            return std::pair{conv.kernel(), *conv.parameters()[0].gradient};
        };
        Matrix<float> y1, dy1, dx1, y2, dy2, dx2, y3, dy3, dx3;
        const auto [kernel, dkernel1] = run(1, y1, dy1, dx1);
        REQUIRE(run(2, y2, dy2, dx2).second == dkernel1);
        REQUIRE(run(3, y3, dy3, dx3).second == dkernel1);
        REQUIRE(dx2 == dx1);
        REQUIRE(dx3 == dx1);

        // The definition, in double: dX_n = col2im(kernel^T * (dY_n masked by ReLU)).
        using namespace feral::detail::kernels;
        const ConvGeometry g{114, size, size - 1, 3, 3, 1, 1, 1, size, size - 1};
        const Index depth = g.col_rows(), spatial = g.col_cols();
        const Matrix<double> k = kernel.cast<double>();
        double worst = 0;
        for (Index i = 0; i < n; ++i) {
            Matrix<double> masked(filters, spatial);
            for (Index j = 0; j < masked.size(); ++j) masked.data()[j] = y1(i, j) > 0 ? double(dy1(i, j)) : 0.0;
            std::vector<double> dcols(static_cast<std::size_t>(depth * spatial)), image(static_cast<std::size_t>(input.size()));
            gemm_reference<double>(depth, spatial, filters, GemmOperand<double>::transposed(k.data(), depth),
                                   GemmOperand<double>::row_major(masked.data(), spatial), dcols.data(), spatial, false);
            col2im_reference(dcols.data(), g, image.data());
            for (Index j = 0; j < input.size(); ++j)
                worst = std::max(worst, std::abs(image[static_cast<std::size_t>(j)] - double(dx1(i, j))));
        }
        REQUIRE(worst < 1e-5 * static_cast<double>(filters) / 5);  // sums of 9 x filters products of values below 1 in float
    }
}

TEST_CASE("layer configurations round-trip through save_config and load_config", "[nn][serialize]") {
    const nn::Conv2D<float> conv({.filters = 6, .kernel_size = 5, .stride = 2, .padding = nn::Padding::same,
                                  .activation = nn::Activation::relu, .use_bias = false,
                                  .kernel_initializer = nn::Initializer::he_normal});
    REQUIRE(config_bytes(*reload(conv)) == config_bytes(conv));
    REQUIRE(reload(conv)->type() == "Conv2D");
    const nn::Dense<float> dense({.units = 9, .activation = nn::Activation::relu});
    REQUIRE(config_bytes(*reload(dense)) == config_bytes(dense));
    const nn::MaxPool2D<float> maxpool({.pool_size = 3, .stride = 1});
    REQUIRE(config_bytes(*reload(maxpool)) == config_bytes(maxpool));
    const nn::AvgPool2D<float> avgpool({.pool_size = 2});
    REQUIRE(config_bytes(*reload(avgpool)) == config_bytes(avgpool));
    const nn::BatchNorm<float> bn(nn::BatchNorm<float>::Config::torch());
    REQUIRE(config_bytes(*reload(bn)) == config_bytes(bn));
    const nn::Dropout<float> dropout({.rate = 0.35});
    REQUIRE(config_bytes(*reload(dropout)) == config_bytes(dropout));
    REQUIRE(reload(nn::ReLU<float>())->type() == "ReLU");
    REQUIRE(reload(nn::Flatten<float>())->type() == "Flatten");
    REQUIRE(reload(nn::Softmax<float>())->type() == "Softmax");

    // A corrupt configuration is a format_error naming the source.
    ByteWriter w;
    w.write<std::uint32_t>(1);
    w.write<double>(1.5);
    ByteReader r(w.bytes().data(), w.bytes().size(), "model.feral");
    REQUIRE_THROWS_WITH(nn::Dropout<float>::load_config(r), Contains("model.feral") && Contains("rate 1.5"));
    ByteWriter v;
    v.write<std::uint32_t>(7);
    ByteReader rv(v.bytes().data(), v.bytes().size(), "model.feral");
    REQUIRE_THROWS_AS(nn::Dense<float>::load_config(rv), format_error);
}

TEST_CASE("Dropout is inverted, seeded, inactive at inference, and routes gradients through its mask", "[nn][dropout]") {
    Random rng(0);
    nn::Dropout<float> drop({.rate = 0.25});
    drop.build({1000, 1, 1}, rng);
    drop.set_seed(42);
    const Matrix<float> x = Matrix<float>::Ones(20, 1000);
    Matrix<float> y, y_again, dx;
    drop.forward(x, y, true);
    const double kept = (y.array() != 0).cast<double>().mean();
    REQUIRE(kept == Approx(0.75).margin(0.01));
    REQUIRE(((y.array() == 0) || (y.array() == 1.0f / 0.75f)).all());
    REQUIRE(y.mean() == Approx(1.0).margin(0.02));  // inverted: the expectation is unchanged
    drop.backward(x, y, x, &dx);
    REQUIRE(dx == y);  // dy = 1 -> dx is the mask
    drop.forward(x, y_again, true);
    REQUIRE(y_again != y);  // a fresh mask on every call
    drop.set_seed(42);
    drop.forward(x, y_again, true);
    REQUIRE(y_again == y);  // same seed, same masks
    drop.set_threads(2);
    drop.set_seed(42);
    drop.forward(x, y_again, true);
    REQUIRE(y_again == y);  // independent of the thread count
    drop.forward(x, y, false);
    REQUIRE(y == x);
}

TEST_CASE("initialisers have Keras' ranges and variances", "[nn][initializers]") {
    // Plain loops rather than Eigen reductions: GCC 12 warns inside Eigen's AVX-512 double reductions.
    struct Stats {
        double min = 0, max = 0, mean_square = 0;
    };
    auto stats = [](const Matrix<double>& w) {
        Stats s{w.data()[0], w.data()[0], 0.0};
        for (Index i = 0; i < w.size(); ++i) {
            const double v = w.data()[i];
            s.min = std::min(s.min, v);
            s.max = std::max(s.max, v);
            s.mean_square += v * v / static_cast<double>(w.size());
        }
        return s;
    };
    Random rng(3);
    Matrix<double> w(300, 400);
    nn::initialize(w, nn::Initializer::glorot_uniform, 300, 400, rng);
    const double limit = std::sqrt(6.0 / 700.0);
    auto s = stats(w);
    REQUIRE(s.max <= limit);
    REQUIRE(s.min >= -limit);
    REQUIRE(s.mean_square == Approx(limit * limit / 3).epsilon(0.02));
    nn::initialize(w, nn::Initializer::he_normal, 300, 400, rng);
    const double stddev = std::sqrt(2.0 / 300.0);  // the truncation correction restores this variance
    s = stats(w);
    REQUIRE(s.mean_square == Approx(stddev * stddev).epsilon(0.02));
    REQUIRE(std::max(s.max, -s.min) <= 2.0 * stddev / 0.87962566103423978 + 1e-12);
    nn::initialize(w, nn::Initializer::zeros, 300, 400, rng);
    s = stats(w);
    REQUIRE(s.min == 0.0);
    REQUIRE(s.max == 0.0);
    REQUIRE_THROWS_AS(nn::initialize(w, nn::Initializer::he_normal, 0, 4, rng), invalid_argument);
}

TEST_CASE("Conv2D 'same' padding follows TensorFlow's output sizes, extra padding at the bottom/right", "[nn][conv2d]") {
    REQUIRE(nn::padded_extent(48, 3, 1, nn::Padding::same).out == 48);
    const auto e = nn::padded_extent(8, 3, 2, nn::Padding::same);  // out 4, total pad 1: 0 before, 1 after
    REQUIRE(e.out == 4);
    REQUIRE(e.pad_before == 0);
    REQUIRE(e.pad_after == 1);
    const auto f = nn::padded_extent(7, 4, 1, nn::Padding::same);  // total 3: 1 before, 2 after
    REQUIRE(f.pad_before == 1);
    REQUIRE(f.pad_after == 2);
    REQUIRE(nn::padded_extent(7, 3, 2, nn::Padding::valid).out == 3);
    Random rng(0);
    nn::Conv2D<float> conv({.filters = 3, .kernel_size = 3, .stride = 2, .padding = nn::Padding::same});
    REQUIRE(conv.build({2, 9, 8}, rng) == nn::Shape{3, 5, 4});
    REQUIRE(conv.parameter_count() == 3 * 2 * 9 + 3);
    REQUIRE(conv.describe() == "3 filters 3x3 same, stride 2");
}
