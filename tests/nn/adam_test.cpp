#include <feral/nn/adam.hpp>
#include <feral/nn/sgd.hpp>

#include <catch2/catch.hpp>

#include "fixture_reader.hpp"
#include "test_support.hpp"

using feral::Matrix;
using feral::nn::Adam;
using feral::nn::Parameter;
using feral::nn::SGD;

namespace {
// Runs five steps from the fixture's p0 with its gradients g0..g4 and compares with torch's trace.
void check_against_torch(feral::nn::Optimizer<double>& optimizer, const std::string& trace_name) {
    const feral::test::Fixture fx(feral::test::fixture("nn/adam_torch.txt"));
    Matrix<double> p = fx.as<double>("p0");
    Matrix<double> g;
    const std::vector<Parameter<double>> params = {{"p", &p, &g}};
    const Matrix<double> trace = fx.as<double>(trace_name);
    for (int k = 0; k < 5; ++k) {
        std::string gradient_name = "g";
        gradient_name += std::to_string(k);
        g = fx.as<double>(gradient_name);
        optimizer.step(params);
        const Matrix<double> expected = Eigen::Map<const Matrix<double>>(trace.row(k).data(), 3, 4);
        INFO(trace_name << " step " << k + 1);
        CHECK(p.isApprox(expected, 1e-13));
    }
}
}  // namespace

TEST_CASE("Adam's first step equals the hand-computed bias-corrected update", "[nn][adam]") {
    // After one step m_hat = g and v_hat = g^2, so p moves by lr * g / (|g| + eps).
    Matrix<double> p(1, 3), g(1, 3);
    p << 1.0, -2.0, 0.5;
    g << 0.5, -4.0, 0.0;
    Adam<double> adam({.learning_rate = 0.1, .epsilon = 1e-8});
    adam.step({{"p", &p, &g}});
    CHECK(p(0, 0) == Approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-14));
    CHECK(p(0, 1) == Approx(-2.0 + 0.1 * 4.0 / (4.0 + 1e-8)).epsilon(1e-14));
    CHECK(p(0, 2) == 0.5);
    // Second step with the same gradient: m_hat = g, v_hat = g^2 again (bias correction exact).
    adam.step({{"p", &p, &g}});
    CHECK(p(0, 0) == Approx(1.0 - 2 * 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-14));
    CHECK(adam.steps() == 2);
    CHECK(adam.first_moment(0)(0, 0) == Approx(0.5 * (1 - 0.81)));
}

TEST_CASE("Adam and AdamW follow torch.optim's trajectories", "[nn][adam]") {
    Adam<double> adam({.learning_rate = 0.01, .beta1 = 0.9, .beta2 = 0.999, .epsilon = 1e-8});
    check_against_torch(adam, "adam");
    Adam<double> adamw({.learning_rate = 0.01, .beta1 = 0.8, .beta2 = 0.99, .epsilon = 1e-8, .weight_decay = 0.1});
    check_against_torch(adamw, "adamw");
}

TEST_CASE("SGD with momentum and with Nesterov momentum follows torch.optim.SGD", "[nn][sgd]") {
    SGD<double> heavy_ball({.learning_rate = 0.05, .momentum = 0.9});
    check_against_torch(heavy_ball, "sgd_momentum");
    SGD<double> nesterov({.learning_rate = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01});
    check_against_torch(nesterov, "sgd_nesterov");
}

TEST_CASE("plain SGD takes a step of -lr * gradient", "[nn][sgd]") {
    Matrix<float> p = Matrix<float>::Constant(2, 2, 1.0f), g = Matrix<float>::Constant(2, 2, 2.0f);
    SGD<float> sgd({.learning_rate = 0.25});
    sgd.step({{"p", &p, &g}});
    CHECK(p.isApproxToConstant(0.5f));
    sgd.set_learning_rate(0.125);
    sgd.step({{"p", &p, &g}});
    CHECK(p.isApproxToConstant(0.25f));
}

TEST_CASE("optimisers reject impossible settings and changed parameter lists", "[nn][adam][sgd]") {
    CHECK_THROWS_AS(Adam<float>({.learning_rate = 0.0}), feral::invalid_argument);
    CHECK_THROWS_AS(Adam<float>({.learning_rate = -1e-3}), feral::invalid_argument);
    CHECK_THROWS_WITH(Adam<float>({.beta1 = 1.0}), Catch::Contains("beta1"));
    CHECK_THROWS_AS(SGD<float>({.learning_rate = std::nan("")}), feral::invalid_argument);
    CHECK_THROWS_WITH(SGD<float>({.momentum = 0.0, .nesterov = true}), Catch::Contains("nesterov"));
    Adam<float> adam;
    CHECK_THROWS_WITH(adam.set_learning_rate(0.0), Catch::Contains("Adam::set_learning_rate"));
    Matrix<float> a = Matrix<float>::Zero(2, 2), ga = a, b = Matrix<float>::Zero(3, 1), gb = b;
    adam.step({{"a", &a, &ga}});
    CHECK_THROWS_WITH(adam.step({{"b", &b, &gb}}), Catch::Contains("'b'"));
    CHECK_THROWS_WITH(adam.step({{"a", &a, &ga}, {"b", &b, &gb}}), Catch::Contains("reset()"));
    adam.reset();
    CHECK_NOTHROW(adam.step({{"b", &b, &gb}}));
}
