// LinearSVC against scikit-learn 1.2 / liblinear fixtures.
#include "feral/models/linear_svc.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using feral::Index;
using feral::LinearSVC;

namespace {
double max_abs_difference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.cols() == b.cols());
    double v = 0.0;
    for (Index i = 0; i < a.rows(); ++i)
        for (Index j = 0; j < a.cols(); ++j) v = std::max(v, std::abs(a(i, j) - b(i, j)));
    return v;
}
}  // namespace

TEST_CASE("LinearSVC solved to high precision has liblinear's weights and intercepts", "[linear_svc]") {
    for (const char* name : {"multiclass", "binary"}) {
        SECTION(name) {
            feral::test::Fixture fx(feral::test::fixture(std::string("models/svc_linear_") + name + ".txt"));
            const auto X = fx.as<float>("X");
            const auto y = fx.labels("y");
            // The dual optimum is unique, so any sweep order reaches it: tight tolerance.
            LinearSVC<> svm({.C = 0.7, .tol = 1e-9, .max_iter = 200000});
            svm.fit(X, y);
            CHECK(max_abs_difference(svm.coef(), fx.matrix("coef")) < 1e-5);
            CHECK(max_abs_difference(svm.intercept(), fx.matrix("intercept")) < 1e-5);
            const auto Xt = fx.as<float>("X_test");
            CHECK(max_abs_difference(svm.decision_function(Xt), fx.matrix("decision")) < 1e-4);
            CHECK((svm.predict(Xt).array() == fx.labels("predict").array()).all());
            // Defaults (tol 1e-4): stopped early, so close rather than equal.
            LinearSVC<> defaults;
            defaults.fit(X, y);
            CHECK(max_abs_difference(defaults.coef(), fx.matrix("coef_default")) < 2e-2);
            CHECK(max_abs_difference(defaults.intercept(), fx.matrix("intercept_default")) < 2e-2);
        }
    }
}

TEST_CASE("LinearSVC is identical whatever the thread count, and differs by seed only within tolerance", "[linear_svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_linear_multiclass.txt"));
    const auto X = fx.as<double>("X");
    const auto y = fx.labels("y");
    LinearSVC<double> one({.n_threads = 1}), two({.n_threads = 2}), other_seed({.random_state = 5});
    one.fit(X, y);
    two.fit(X, y);
    other_seed.fit(X, y);
    CHECK(one.coef() == two.coef());
    CHECK(one.intercept() == two.intercept());
    CHECK(max_abs_difference(one.coef(), other_seed.coef()) < 2e-2);
    CHECK(one.score(X, y) > 0.8);
}

TEST_CASE("LinearSVC with hinge loss and class weights reaches the weighted optimum's margin conditions", "[linear_svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_linear_binary.txt"));
    const auto X = fx.as<float>("X");
    const auto y = fx.labels("y");
    LinearSVC<> svm({.loss = feral::SvmLoss::hinge, .C = 0.5, .tol = 1e-8, .max_iter = 100000,
                     .class_weight = feral::ClassWeight::custom({{8, 3.0}})});
    svm.fit(X, y);
    CHECK(svm.n_iter()[0] < 100000);
    // KKT of the hinge primal: with w = sum_i y_i a_i x_i and 0 <= a_i <= C_i, every
    // margin-violating row (y f < 1) has a_i = C_i, so the weighted violations bound |w|^2 from below.
    const auto f = svm.decision_function(X);
    double hinge = 0.0;
    for (Index i = 0; i < X.rows(); ++i) {
        const double yi = y[i] == 8 ? 1.0 : -1.0;
        hinge += (y[i] == 8 ? 1.5 : 0.5) * std::max(0.0, 1.0 - yi * f(i, 0));
    }
    const double w2 = svm.coef().squaredNorm() + svm.intercept()[0] * svm.intercept()[0];
    // The weighted objective beats the unweighted solution's on the weighted problem.
    LinearSVC<> plain({.loss = feral::SvmLoss::hinge, .C = 0.5, .tol = 1e-8, .max_iter = 100000});
    plain.fit(X, y);
    const auto g = plain.decision_function(X);
    double hinge_plain = 0.0;
    for (Index i = 0; i < X.rows(); ++i) {
        const double yi = y[i] == 8 ? 1.0 : -1.0;
        hinge_plain += (y[i] == 8 ? 1.5 : 0.5) * std::max(0.0, 1.0 - yi * g(i, 0));
    }
    const double w2_plain = plain.coef().squaredNorm() + plain.intercept()[0] * plain.intercept()[0];
    CHECK(0.5 * w2 + hinge <= 0.5 * w2_plain + hinge_plain + 1e-6);
}

TEST_CASE("LinearSVC rejects bad parameters and input, and round-trips through save/load", "[linear_svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_linear_multiclass.txt"));
    const auto X = fx.as<float>("X");
    const auto y = fx.labels("y");
    using E = feral::invalid_argument;
    CHECK_THROWS_AS(LinearSVC<>().predict(X), feral::not_fitted);
    CHECK_THROWS_WITH(LinearSVC<>({.C = 0.0}).fit(X, y), Catch::Contains("C = 0"));
    CHECK_THROWS_AS(LinearSVC<>({.tol = -1.0}).fit(X, y), E);
    CHECK_THROWS_AS(LinearSVC<>({.max_iter = 0}).fit(X, y), E);
    CHECK_THROWS_AS(LinearSVC<>({.intercept_scaling = 0.0}).fit(X, y), E);
    CHECK_THROWS_AS(LinearSVC<>().fit(X, feral::Labels::Zero(X.rows())), E);
    CHECK_THROWS_AS(LinearSVC<>().fit(X, y.head(5)), E);
    feral::Matrix<float> bad = X;
    bad(7, 0) = std::nanf("");
    CHECK_THROWS_WITH(LinearSVC<>().fit(bad, y), Catch::Contains("row 7"));
    LinearSVC<> svm;
    svm.fit(X, y);
    CHECK_THROWS_AS(svm.predict(X.leftCols(2)), E);
    const auto dir = feral::test::scratch_dir("linear_svc_save");
    svm.save(dir / "linear.feral");
    const auto loaded = LinearSVC<>::load(dir / "linear.feral");
    CHECK(loaded.decision_function(X) == svm.decision_function(X));
    CHECK_THROWS_AS(LinearSVC<double>::load(dir / "linear.feral"), feral::format_error);
}
