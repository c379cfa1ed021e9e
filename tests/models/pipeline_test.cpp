#include "models/pipeline_test_estimators.hpp"

#include <feral/core/random.hpp>
#include <feral/models/pipeline.hpp>

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>

namespace {
using feral::Labels;
using feral::Matrix;
using feral::test::ToyColumnSelector;
using feral::test::ToyNearestCentroid;
using feral::test::ToyScaler;

// Three classes (labels 1, 4, 6) around distinct centres in 5 features, on very different
// scales, so scaling changes a nearest-centroid model's answers.
template <class T>
void make_data(Matrix<T>& X, Labels& y, feral::Index n, std::uint64_t seed) {
    feral::Random rng(seed);
    X.resize(n, 5);
    y.resize(n);
    const int labels[3] = {1, 4, 6};
    for (feral::Index i = 0; i < n; ++i) {
        const int k = static_cast<int>(i % 3);
        y[i] = labels[k];
        for (feral::Index j = 0; j < 5; ++j)
            X(i, j) = static_cast<T>((k == j % 3 ? 1.0 : 0.0) + 0.8 * rng.normal()) * static_cast<T>(j == 0 ? 1000 : 1);
    }
}
// Largest absolute difference (GCC 12 warns falsely inside Eigen's isApprox with AVX-512).
template <class A, class B>
double max_difference(const A& a, const B& b) {
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.cols() == b.cols());
    double worst = 0.0;
    for (feral::Index i = 0; i < a.rows(); ++i)
        for (feral::Index j = 0; j < a.cols(); ++j) worst = std::max(worst, std::abs(static_cast<double>(a(i, j) - b(i, j))));
    return worst;
}
}  // namespace

TEST_CASE("A pipeline gives the same answers as its steps applied by hand", "[models][pipeline]") {
    Matrix<double> X, X_test;
    Labels y, y_test;
    make_data(X, y, 90, 1);
    make_data(X_test, y_test, 45, 2);

    auto model = feral::make_pipeline(ToyScaler<double>{}, ToyColumnSelector<double>({.keep = 3}),
                                      ToyNearestCentroid<double>{});
    static_assert(std::is_same_v<decltype(model)::scalar_type, double>);
    STATIC_REQUIRE(decltype(model)::n_steps == 3);
    CHECK_FALSE(model.is_fitted());
    model.fit(X, y);
    CHECK(model.is_fitted());

    ToyScaler<double> scaler;
    const Matrix<double> scaled = scaler.fit(X).transform(X);
    ToyColumnSelector<double> selector({.keep = 3});
    const Matrix<double> selected = selector.fit_transform(scaled);
    ToyNearestCentroid<double> centroid;
    centroid.fit(selected, y);
    const Matrix<double> test_features = selector.transform(scaler.transform(X_test));

    CHECK(model.predict(X_test) == centroid.predict(test_features));
    CHECK(max_difference(model.predict_proba(X_test), centroid.predict_proba(test_features)) < 1e-9);
    CHECK(model.score(X_test, y_test) == centroid.score(test_features, y_test));
    CHECK(model.classes() == std::vector<int>{1, 4, 6});
    CHECK(max_difference(model.step<2>().centroids(), centroid.centroids()) < 1e-9);
    // Scaling matters here: without it, the large first column decides everything.
    ToyNearestCentroid<double> unscaled;
    unscaled.fit(X.leftCols(3), y);
    CHECK(unscaled.score(X_test.leftCols(3), y_test) < model.score(X_test, y_test));
}

TEST_CASE("A pipeline fits each transformer with fit_transform when it has one", "[models][pipeline]") {
    Matrix<float> X;
    Labels y;
    make_data(X, y, 30, 3);
    auto model = feral::make_pipeline(ToyColumnSelector<float>({.keep = 4}), ToyNearestCentroid<float>{});
    model.fit(X, y);
    CHECK(model.step<0>().fit_transform_calls == 1);
    CHECK(model.step<0>().fit_calls == 0);
    model.fit(X, y);
    CHECK(model.step<0>().fit_transform_calls == 2);
}

TEST_CASE("A pipeline's steps are reachable by index, std::get and structured bindings", "[models][pipeline]") {
    Matrix<float> X;
    Labels y;
    make_data(X, y, 30, 4);
    auto model = feral::make_pipeline(ToyScaler<float>{}, ToyNearestCentroid<float>{});
    model.fit(X, y);
    CHECK(&std::get<0>(model.steps()) == &model.step<0>());
    CHECK(&feral::get<1>(model) == &model.last_step());
    auto& [scaler, centroid] = model;
    CHECK(max_difference(scaler.mean(), X.colwise().mean()) < 1e-9);
    CHECK(centroid.is_fitted());
}

TEST_CASE("A transformer-only pipeline transforms and fit_transforms through every step", "[models][pipeline]") {
    Matrix<double> X;
    Labels y;
    make_data(X, y, 24, 5);
    auto chain = feral::make_pipeline(ToyScaler<double>{}, ToyColumnSelector<double>({.keep = 2}));
    const Matrix<double> fitted = chain.fit_transform(X);
    REQUIRE(fitted.cols() == 2);
    CHECK(max_difference(chain.transform(X), fitted) < 1e-9);
    ToyScaler<double> scaler;
    CHECK(max_difference(fitted, scaler.fit(X).transform(X).leftCols(2)) < 1e-9);
}

TEST_CASE("A single-step pipeline forwards to its one estimator", "[models][pipeline]") {
    Matrix<float> X;
    Labels y;
    make_data(X, y, 30, 6);
    auto model = feral::make_pipeline(ToyNearestCentroid<float>{});
    model.fit(X, y);
    ToyNearestCentroid<float> alone;
    alone.fit(X, y);
    CHECK(model.predict(X) == alone.predict(X));
}

TEST_CASE("A copied pipeline is an independent model", "[models][pipeline]") {
    Matrix<double> X, X2;
    Labels y, y2;
    make_data(X, y, 30, 7);
    make_data(X2, y2, 30, 8);
    X2.array() += 3.0;
    auto model = feral::make_pipeline(ToyScaler<double>{}, ToyNearestCentroid<double>{});
    model.fit(X, y);
    auto copy = model;
    copy.fit(X2, y2);
    CHECK(max_difference(copy.step<0>().mean(), model.step<0>().mean()) > 1e-3);
    CHECK(max_difference(model.step<0>().mean(), X.colwise().mean()) < 1e-9);
}

TEST_CASE("Using a pipeline before fit is a not_fitted error naming the call", "[models][pipeline]") {
    Matrix<float> X;
    Labels y;
    make_data(X, y, 12, 9);
    const auto model = feral::make_pipeline(ToyScaler<float>{}, ToyNearestCentroid<float>{});
    CHECK_THROWS_AS(model.predict(X), feral::not_fitted);
    CHECK_THROWS_WITH(model.predict(X), Catch::Contains("Pipeline::predict"));
    CHECK_THROWS_AS(model.score(X, y), feral::not_fitted);
    CHECK_THROWS_AS(model.save(feral::test::scratch_dir("pipeline_unfitted") / "m.feral"), feral::not_fitted);
}

TEST_CASE("A step's error reaches the caller with the step's own message", "[models][pipeline]") {
    Matrix<float> X;
    Labels y;
    make_data(X, y, 12, 10);
    auto model = feral::make_pipeline(ToyColumnSelector<float>({.keep = 9}), ToyNearestCentroid<float>{});
    CHECK_THROWS_AS(model.fit(X, y), feral::invalid_argument);
    CHECK_THROWS_WITH(model.fit(X, y), Catch::Contains("ToyColumnSelector::fit") && Catch::Contains("9"));
    CHECK_FALSE(model.is_fitted());

    auto fine = feral::make_pipeline(ToyScaler<float>{}, ToyNearestCentroid<float>{});
    fine.fit(X, y);
    CHECK_THROWS_WITH(fine.predict(X.leftCols(4)), Catch::Contains("4 features") && Catch::Contains("5"));
    Matrix<float> bad = X;
    bad(3, 2) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(fine.fit(bad, y), feral::invalid_argument);
}

TEST_CASE("A saved pipeline loads back with every step's state", "[models][pipeline]") {
    Matrix<float> X;
    Labels y;
    make_data(X, y, 60, 11);
    using Model = feral::Pipeline<ToyScaler<float>, ToyColumnSelector<float>, ToyNearestCentroid<float>>;
    Model model(ToyScaler<float>{}, ToyColumnSelector<float>({.keep = 3}), ToyNearestCentroid<float>{});
    model.fit(X, y);
    const auto dir = feral::test::scratch_dir("pipeline_save");
    const auto path = dir / "model.feral";
    model.save(path);
    CHECK_THROWS_AS(model.save(path), feral::io_error);
    model.save(path, feral::Overwrite::yes);

    const Model loaded = Model::load(path);
    CHECK(loaded.is_fitted());
    CHECK(loaded.step<1>().config().keep == 3);
    CHECK(loaded.predict(X) == model.predict(X));
    CHECK(loaded.predict_proba(X) == model.predict_proba(X));
    CHECK(feral::read_container(path).type_tag() ==
          "Pipeline<ToyScaler<float>,ToyColumnSelector<float>,ToyNearestCentroid<float>>");

    SECTION("a pipeline of other steps refuses the file, naming the step") {
        using Other = feral::Pipeline<ToyScaler<float>, ToyScaler<float>, ToyNearestCentroid<float>>;
        CHECK_THROWS_AS(Other::load(path), feral::format_error);
        CHECK_THROWS_WITH(Other::load(path), Catch::Contains("step 1") && Catch::Contains("ToyColumnSelector<float>"));
    }
    SECTION("a pipeline of another length refuses the file") {
        using Shorter = feral::Pipeline<ToyScaler<float>, ToyNearestCentroid<float>>;
        CHECK_THROWS_WITH(Shorter::load(path), Catch::Contains("3 steps") && Catch::Contains("expected 2"));
    }
    SECTION("a single model's file is not a pipeline") {
        model.step<2>().save(dir / "centroid.feral");
        CHECK_THROWS_WITH(Model::load(dir / "centroid.feral"), Catch::Contains("expected a Pipeline"));
    }
    SECTION("a corrupted file is a format_error") {
        std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(200);
        file.put('\x5a');
        file.close();
        CHECK_THROWS_AS(Model::load(path), feral::format_error);
    }
    SECTION("a missing file is an io_error") { CHECK_THROWS_AS(Model::load(dir / "absent.feral"), feral::io_error); }
}
