#include <feral/nn/lstm.hpp>

#include <catch2/catch.hpp>

#include "fixture_reader.hpp"
#include "test_support.hpp"

using feral::Index;
using feral::Matrix;
using feral::nn::LSTM;
using feral::nn::Shape;

namespace {
// loss = sum(h_T .* R): its gradient with respect to h_T is R.
double lstm_loss(LSTM<double>& lstm, const Matrix<double>& x, const Matrix<double>& r) {
    Matrix<double> h;
    lstm.forward(x, h, true);
    return (h.array() * r.array()).sum();
}
}  // namespace

TEST_CASE("LSTM matches PyTorch 1.13's nn.LSTM forward and backward with the same weights", "[nn][lstm]") {
    const feral::test::Fixture fx(feral::test::fixture("nn/lstm_torch.txt"));
    const Matrix<double> x = fx.as<double>("x");
    const auto units = fx.matrix("recurrent_kernel").rows();
    const auto features = fx.matrix("kernel").rows();
    const auto steps = x.cols() / features;
    LSTM<double> lstm(units);
    feral::Random rng(1);
    REQUIRE(lstm.build(Shape{1, steps, features}, rng) == Shape{units, 1, 1});
    auto params = lstm.parameters();
    *params[0].value = fx.as<double>("kernel");
    *params[1].value = fx.as<double>("recurrent_kernel");
    *params[2].value = fx.as<double>("bias");

    Matrix<double> h, dx;
    lstm.forward(x, h, true);
    CHECK(h.isApprox(fx.as<double>("h_last"), 1e-12));
    lstm.backward(x, h, fx.as<double>("r"), &dx);
    CHECK(dx.isApprox(fx.as<double>("grad_x"), 1e-12));
    CHECK(params[0].gradient->isApprox(fx.as<double>("grad_kernel"), 1e-12));
    CHECK(params[1].gradient->isApprox(fx.as<double>("grad_recurrent_kernel"), 1e-12));
    CHECK(params[2].gradient->isApprox(fx.as<double>("grad_bias"), 1e-12));
}

TEST_CASE("LSTM gradients agree with central finite differences", "[nn][lstm]") {
    // 36 samples: more than one block of 32, so the block split is exercised too.
    const Index batch = 36, steps = 3, features = 3, units = 5;
    LSTM<double> lstm(units);
    feral::Random rng(7);
    lstm.build(Shape{1, steps, features}, rng);
    Matrix<double> x(batch, steps * features), r(batch, units);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = rng.normal();
    for (Index i = 0; i < r.size(); ++i) r.data()[i] = rng.normal();

    Matrix<double> h, dx;
    lstm.forward(x, h, true);
    lstm.backward(x, h, r, &dx);
    const double eps = 1e-6;
    for (auto& p : lstm.parameters()) {
        const Matrix<double> analytic = *p.gradient;
        for (Index k = 0; k < p.value->size(); k += 5) {
            double& w = p.value->data()[k];
            const double saved = w;
            w = saved + eps;
            const double up = lstm_loss(lstm, x, r);
            w = saved - eps;
            const double down = lstm_loss(lstm, x, r);
            w = saved;
            INFO(p.name << " element " << k);
            CHECK(analytic.data()[k] == Approx((up - down) / (2 * eps)).margin(1e-6));
        }
    }
    for (Index k = 0; k < x.size(); k += 7) {
        Matrix<double> xp = x, xm = x;
        xp.data()[k] += eps;
        xm.data()[k] -= eps;
        INFO("input element " << k);
        CHECK(dx.data()[k] == Approx((lstm_loss(lstm, xp, r) - lstm_loss(lstm, xm, r)) / (2 * eps)).margin(1e-6));
    }
}

TEST_CASE("LSTM initialises as Keras does: orthogonal recurrent kernel, unit forget bias", "[nn][lstm]") {
    LSTM<double> lstm(8);
    feral::Random rng(3);
    lstm.build(Shape{1, 6, 10}, rng);
    auto params = lstm.parameters();
    const Matrix<double>& recurrent = *params[1].value;  // 8 x 32: orthonormal rows
    CHECK((recurrent * recurrent.transpose()).isApprox(Matrix<double>::Identity(8, 8), 1e-12));
    const Matrix<double>& bias = *params[2].value;
    CHECK(bias.block(0, 0, 1, 8).isZero());
    CHECK(bias.block(0, 8, 1, 8).isOnes());
    CHECK(bias.block(0, 16, 1, 16).isZero());
    const double limit = std::sqrt(6.0 / (10 + 32));
    CHECK(params[0].value->cwiseAbs().maxCoeff() <= limit);
}

TEST_CASE("LSTM results do not depend on the thread count", "[nn][lstm]") {
    Matrix<float> x(40, 6 * 5);
    feral::Random data(11);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(data.normal());
    Matrix<float> outputs[2], grads[2];
    for (int run = 0; run < 2; ++run) {
        LSTM<float> lstm(7);
        feral::Random rng(5);
        lstm.build(Shape{1, 6, 5}, rng);
        lstm.set_threads(run == 0 ? 1 : 3);
        lstm.forward(x, outputs[run], true);
        lstm.backward(x, outputs[run], Matrix<float>::Ones(40, 7), &grads[run]);
    }
    CHECK(outputs[0] == outputs[1]);
    CHECK(grads[0] == grads[1]);
}

TEST_CASE("LSTM rejects unsuitable input shapes and sizes", "[nn][lstm]") {
    CHECK_THROWS_AS(LSTM<float>(0), feral::invalid_argument);
    LSTM<float> lstm(4);
    feral::Random rng(0);
    CHECK_THROWS_WITH(lstm.build(Shape{3, 8, 8}, rng), Catch::Contains("3x8x8"));
    lstm.build(Shape{1, 8, 8}, rng);
    Matrix<float> wrong(2, 63), out;
    CHECK_THROWS_WITH(lstm.forward(wrong, out, false), Catch::Contains("63"));
}
