// StandardScaler against scikit-learn 1.2 (fixtures from
// tools/fixtures/make_sklearn_fixtures_nb_pca_metrics.py) and its error contract.
#include "feral/features/standard_scaler.hpp"

#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <string>

namespace {
template <class A>
double max_abs_difference(const A& a, const Eigen::MatrixXd& b) {
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.cols() == b.cols());
    return (a.template cast<double>() - b).cwiseAbs().maxCoeff();
}
}  // namespace

TEMPLATE_TEST_CASE("StandardScaler matches scikit-learn with and without centring and scaling", "[features][standard_scaler]",
                   float, double) {
    using T = TestType;
    const feral::test::Fixture f(feral::test::fixture("features/standard_scaler.txt"));
    const feral::Matrix<T> X = f.as<T>("X"), X_test = f.as<T>("X_test");
    // Float: inputs are rounded to float (relative 6e-8 of values up to ~1e3).
    const double tolerance = std::is_same_v<T, double> ? 1e-12 : 2e-4;

    feral::StandardScaler<T> scaler;
    REQUIRE(&scaler.fit(X) == &scaler);
    CHECK(scaler.n_samples_seen() == X.rows());
    CHECK(max_abs_difference(scaler.mean().transpose(), f.matrix("mean")) < tolerance);
    const Eigen::MatrixXd var = f.matrix("var");
    const double relative = (scaler.var().transpose().template cast<double>() - var).cwiseAbs().maxCoeff() / var.maxCoeff();
    CHECK(relative < (std::is_same_v<T, double> ? 1e-12 : 1e-6));
    CHECK(max_abs_difference(scaler.scale().transpose(), f.matrix("scale")) < tolerance);
    CHECK(scaler.scale()[4] == T(1));  // the constant feature

    const std::pair<std::string, typename feral::StandardScaler<T>::Config> variants[] = {
        {"both", {}}, {"no_mean", {.with_mean = false}}, {"no_std", {.with_std = false}}};
    for (const auto& [tag, config] : variants) {
        INFO(tag);
        feral::StandardScaler<T> s(config);
        s.fit(X);
        CHECK(max_abs_difference(s.transform(X_test), f.matrix(tag + "_transform")) < tolerance * 10);
        CHECK(max_abs_difference(s.inverse_transform(X_test), f.matrix(tag + "_inverse")) < tolerance * 100);
        const feral::Matrix<T> round_trip = s.inverse_transform(s.transform(X));
        CHECK((round_trip - X).cwiseAbs().maxCoeff() < T(tolerance * 1e3));
    }
    const feral::Matrix<T> Z = feral::StandardScaler<T>().fit_transform(X);
    CHECK(Z.colwise().mean().cwiseAbs().maxCoeff() < T(1e-5));
}

TEST_CASE("StandardScaler is independent of the thread count, saves and loads", "[features][standard_scaler]") {
    feral::Random random(5);
    feral::Matrix<float> X(700, 130);
    for (feral::Index i = 0; i < X.rows(); ++i)
        for (feral::Index j = 0; j < X.cols(); ++j) X(i, j) = static_cast<float>(random.normal(static_cast<double>(j), 1.0 + j % 7));
    feral::StandardScaler<float> one({.n_threads = 1}), four({.n_threads = 4});
    one.fit(X);
    four.fit(X);
    CHECK(one.mean() == four.mean());
    CHECK(one.scale() == four.scale());
    CHECK(one.transform(X) == four.transform(X));

    const auto dir = feral::test::scratch_dir("standard_scaler_save");
    four.save(dir / "scaler.feral");
    const auto loaded = feral::StandardScaler<float>::load(dir / "scaler.feral");
    CHECK(loaded.config().n_threads == 4);
    CHECK(loaded.transform(X) == four.transform(X));
    CHECK_THROWS_AS(feral::StandardScaler<double>::load(dir / "scaler.feral"), feral::format_error);
    feral::ByteWriter w;
    w.write(1);
    feral::write_container(dir / "nb.feral", "GaussianNB<float>", 1, w.bytes());
    CHECK_THROWS_WITH(feral::StandardScaler<float>::load(dir / "nb.feral"), Catch::Contains("GaussianNB<float>"));
}

TEST_CASE("StandardScaler rejects bad input", "[features][standard_scaler]") {
    feral::StandardScaler<float> s;
    feral::Matrix<float> X = feral::Matrix<float>::Random(5, 3);
    CHECK_THROWS_AS(s.transform(X), feral::not_fitted);
    CHECK_THROWS_AS(s.mean(), feral::not_fitted);
    CHECK_THROWS_AS(s.save("never-written.feral"), feral::not_fitted);
    CHECK_THROWS_AS(s.fit(feral::Matrix<float>(0, 3)), feral::invalid_argument);
    feral::Matrix<float> bad = X;
    bad(3, 2) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(s.fit(bad), Catch::Contains("StandardScaler::fit") && Catch::Contains("row 3, column 2"));
    s.fit(X);
    CHECK_THROWS_WITH(s.transform(feral::Matrix<float>::Zero(2, 4)), Catch::Contains("X has 4 features, but the model was fitted with 3"));
    CHECK_THROWS_AS(s.inverse_transform(feral::Matrix<float>::Zero(2, 2)), feral::invalid_argument);
    CHECK_THROWS_AS(s.transform(bad), feral::invalid_argument);
}
