// Tests for LogisticRegression (lbfgs and saga) against scikit-learn 1.2.
#include "feral/models/logistic_regression.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <limits>

namespace {

using feral::Index;
using feral::Labels;
using feral::Matrix;
using feral::LogisticSolver;

feral::test::Fixture& logreg_fixture() {
    static feral::test::Fixture f(feral::test::fixture("models/logreg.txt"));
    return f;
}

/// max |a - b| / max |b|: the relative coefficient error used throughout.
double relative_error(const Matrix<double>& a, const Matrix<double>& b) {
    return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

/// Fits `config` on the fixture's data and compares with the case `name`.
template <class T>
void check_case(const std::string& name, typename feral::LogisticRegression<T>::Config config, double coef_tolerance,
                double proba_tolerance, const std::string& labels = "y", Index rows = -1) {
    const auto& f = logreg_fixture();
    Matrix<T> X = f.as<T>("X");
    Labels y = f.labels(labels);
    if (rows > 0) {
        X = X.topRows(rows).eval();
        y = y.head(rows).eval();
    }
    const Matrix<T> X_test = f.as<T>("X_test");
    feral::LogisticRegression<T> model(config);
    model.fit(X, y);
    INFO("case " << name << ", n_iter " << model.n_iter());
    const Matrix<double> coef = model.coef().template cast<double>();
    const Matrix<double> expected_coef = f.as<double>(name + "_coef");
    REQUIRE(coef.rows() == expected_coef.rows());
    REQUIRE(coef.cols() == expected_coef.cols());
    CHECK(relative_error(coef, expected_coef) < coef_tolerance);
    const Matrix<double> intercept = model.intercept().template cast<double>().transpose();
    const Matrix<double> expected_intercept = f.as<double>(name + "_intercept").transpose();
    CHECK((intercept - expected_intercept).cwiseAbs().maxCoeff() < coef_tolerance * expected_coef.cwiseAbs().maxCoeff() + 1e-12);
    const Matrix<double> proba = model.predict_proba(X_test).template cast<double>();
    CHECK((proba - f.as<double>(name + "_proba")).cwiseAbs().maxCoeff() < proba_tolerance);
    CHECK(model.predict(X_test) == f.labels(name + "_predict"));
    CHECK(model.n_iter() >= 1);
}

}  // namespace

TEST_CASE("LogisticRegression lbfgs reaches scikit-learn's optimum", "[logistic_regression]") {
    using Config = feral::LogisticRegression<double>::Config;
    SECTION("multinomial, C = 1") {
        check_case<double>("multi_l2", Config{.tol = 1e-10, .max_iter = 10000}, 1e-5, 1e-6);
    }
    SECTION("multinomial, C = 0.1, balanced class weights") {
        check_case<double>("multi_c01_balanced",
                           Config{.C = 0.1, .tol = 1e-10, .max_iter = 10000, .class_weight = feral::ClassWeight::balanced()},
                           1e-5, 1e-6, "y", 200);
    }
    SECTION("multinomial without intercept") {
        check_case<double>("multi_nointercept", Config{.C = 2.0, .fit_intercept = false, .tol = 1e-10, .max_iter = 10000},
                           1e-5, 1e-6);
    }
    SECTION("multinomial without penalty") {
        check_case<double>("multi_none", Config{.penalty = feral::Penalty::none, .tol = 1e-10, .max_iter = 10000}, 1e-4,
                           1e-5);
    }
    SECTION("binary: one coefficient row for the second class") {
        check_case<double>("binary_l2", Config{.C = 0.5, .tol = 1e-10, .max_iter = 10000}, 1e-5, 1e-6, "y_binary");
    }
    SECTION("float data") {
        check_case<float>("multi_l2", feral::LogisticRegression<float>::Config{.tol = 1e-6, .max_iter = 10000}, 1e-3, 1e-4);
    }
}

TEST_CASE("LogisticRegression saga converges to the same optimum", "[logistic_regression]") {
    using Config = feral::LogisticRegression<double>::Config;
    SECTION("multinomial") {
        check_case<double>("multi_saga", Config{.tol = 1e-8, .max_iter = 100000, .solver = LogisticSolver::saga}, 1e-3, 1e-4);
        // scikit-learn's saga and lbfgs solutions agree as well, so both solvers land on one optimum.
        check_case<double>("multi_l2", Config{.tol = 1e-8, .max_iter = 100000, .solver = LogisticSolver::saga}, 1e-3, 1e-4);
    }
    SECTION("binary") {
        check_case<double>("binary_saga", Config{.C = 0.5, .tol = 1e-8, .max_iter = 100000, .solver = LogisticSolver::saga},
                           1e-3, 1e-4, "y_binary");
    }
    SECTION("float data") {
        check_case<float>("multi_saga",
                          feral::LogisticRegression<float>::Config{.tol = 1e-7, .max_iter = 100000, .solver = LogisticSolver::saga},
                          1e-3, 1e-4);
    }
    SECTION("max_iter caps the epochs") {
        const auto& f = logreg_fixture();
        feral::LogisticRegression<double> model({.max_iter = 2, .solver = LogisticSolver::saga});
        model.fit(f.as<double>("X"), f.labels("y"));
        CHECK(model.n_iter() == 2);
    }
}

TEST_CASE("LogisticRegression gives identical results for any thread count", "[logistic_regression]") {
    feral::Random rng(3);
    Matrix<float> X(3000, 40);
    Labels y(3000);
    for (Index i = 0; i < X.rows(); ++i) {
        for (Index j = 0; j < X.cols(); ++j) X(i, j) = static_cast<float>(rng.normal());
        y[i] = (X(i, 0) + X(i, 1) > 0.5f) + (X(i, 2) > 0.0f) * 2;
    }
    feral::LogisticRegression<> one({.max_iter = 50, .n_threads = 1}), three({.max_iter = 50, .n_threads = 3});
    one.fit(X, y);
    three.fit(X, y);
    CHECK(one.coef() == three.coef());
    CHECK(one.intercept() == three.intercept());
    CHECK(one.predict_proba(X) == three.predict_proba(X));
    CHECK(one.score(X, y) > 0.8);
    const Matrix<float> proba = one.predict_proba(X);
    CHECK((proba.rowwise().sum().array() - 1.0f).abs().maxCoeff() < 1e-5f);
}

TEST_CASE("LogisticRegression rejects bad input with a message naming the problem", "[logistic_regression]") {
    const auto& f = logreg_fixture();
    const Matrix<float> X = f.as<float>("X");
    const Labels y = f.labels("y");
    CHECK_THROWS_FERAL(feral::LogisticRegression<>({.C = -1}).fit(X, y), feral::invalid_argument, "C = -1");
    CHECK_THROWS_FERAL(feral::LogisticRegression<>({.C = 0}).fit(X, y), feral::invalid_argument, "C = 0");
    CHECK_THROWS_FERAL(feral::LogisticRegression<>({.tol = 0}).fit(X, y), feral::invalid_argument, "tol = 0");
    CHECK_THROWS_FERAL(feral::LogisticRegression<>({.max_iter = 0}).fit(X, y), feral::invalid_argument, "max_iter = 0");
    CHECK_THROWS_FERAL(feral::LogisticRegression<>({.class_weight = feral::ClassWeight::custom({{3, 2.0}})}).fit(X, y),
                       feral::invalid_argument, "label 3");
    CHECK_THROWS_FERAL(feral::LogisticRegression<>().fit(X, Labels::Constant(X.rows(), 4)), feral::invalid_argument,
                       "1 distinct class");
    CHECK_THROWS_FERAL(feral::LogisticRegression<>().fit(X, y.head(10)), feral::invalid_argument, "but y has 10");
    Matrix<float> bad = X;
    bad(7, 3) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_FERAL(feral::LogisticRegression<>().fit(bad, y), feral::invalid_argument, "row 7, column 3");
    CHECK_THROWS_AS(feral::LogisticRegression<>().predict(X), feral::not_fitted);
    feral::LogisticRegression<> model;
    model.fit(X, y);
    CHECK_THROWS_FERAL(model.predict(Matrix<float>::Zero(2, 5)), feral::invalid_argument, "5 features");
    Labels unseen = y;
    unseen[4] = 2;
    CHECK_THROWS_FERAL(model.score(X, unseen), feral::invalid_argument, "label 2 at row 4");
}

TEST_CASE("LogisticRegression survives save and load, and refuses another model's file", "[logistic_regression]") {
    const auto& f = logreg_fixture();
    const Matrix<float> X = f.as<float>("X");
    feral::LogisticRegression<> model({.C = 0.3, .class_weight = feral::ClassWeight::balanced()});
    model.fit(X, f.labels("y"));
    const auto dir = feral::test::scratch_dir("logreg_save");
    model.save(dir / "lr.feral");
    const auto loaded = feral::LogisticRegression<>::load(dir / "lr.feral");
    CHECK(loaded.coef() == model.coef());
    CHECK(loaded.intercept() == model.intercept());
    CHECK(loaded.predict_proba(X) == model.predict_proba(X));
    CHECK(loaded.classes() == model.classes());
    CHECK(loaded.config().C == 0.3);
    CHECK(loaded.config().class_weight.mode == feral::ClassWeight::Mode::balanced);
    CHECK_THROWS_AS(feral::LogisticRegression<double>::load(dir / "lr.feral"), feral::format_error);
}
