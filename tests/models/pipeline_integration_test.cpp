// Pipelines, cross-validation and grid search over feral's real estimators.
#include <feral/core/random.hpp>
#include <feral/features/pca.hpp>
#include <feral/features/standard_scaler.hpp>
#include <feral/models/gaussian_nb.hpp>
#include <feral/models/kmeans.hpp>
#include <feral/models/knn.hpp>
#include <feral/models/logistic_regression.hpp>
#include <feral/models/model_selection.hpp>
#include <feral/models/pipeline.hpp>

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

namespace {
using feral::Labels;
using feral::Matrix;

// Four classes around random centres in 12 features with very different scales.
void make_data(Matrix<float>& X, Labels& y, feral::Index n, std::uint64_t seed) {
    feral::Random centres_rng(99);
    Matrix<float> centres(4, 12);
    for (feral::Index k = 0; k < 4; ++k)
        for (feral::Index j = 0; j < 12; ++j) centres(k, j) = static_cast<float>(1.5 * centres_rng.normal());
    feral::Random rng(seed);
    X.resize(n, 12);
    y.resize(n);
    for (feral::Index i = 0; i < n; ++i) {
        y[i] = static_cast<int>(i % 4);
        for (feral::Index j = 0; j < 12; ++j)
            X(i, j) = (centres(y[i], j) + static_cast<float>(rng.normal())) * static_cast<float>(1 + 50 * (j % 3));
    }
}
}  // namespace

TEST_CASE("A scaler, PCA and k-NN pipeline equals the three estimators applied by hand, and survives save/load",
          "[models][pipeline]") {
    Matrix<float> X, X_test;
    Labels y, y_test;
    make_data(X, y, 200, 1);
    make_data(X_test, y_test, 80, 2);
    using Model = feral::Pipeline<feral::StandardScaler<float>, feral::PCA<float>, feral::KNeighborsClassifier<float>>;
    Model model(feral::StandardScaler<float>{}, feral::PCA<float>({.n_components = 5}),
                feral::KNeighborsClassifier<float>({.n_neighbors = 3}));
    model.fit(X, y);

    feral::StandardScaler<float> scaler;
    feral::PCA<float> pca({.n_components = 5});
    feral::KNeighborsClassifier<float> knn({.n_neighbors = 3});
    knn.fit(pca.fit_transform(scaler.fit_transform(X)), y);
    const Labels by_hand = knn.predict(pca.transform(scaler.transform(X_test)));
    CHECK(model.predict(X_test) == by_hand);
    CHECK(model.step<1>().components().rows() == 5);
    const double accuracy = model.score(X_test, y_test);
    CHECK(accuracy > 0.6);  // four well separated classes

    const auto path = feral::test::scratch_dir("pipeline_integration") / "scaler_pca_knn.feral";
    model.save(path);
    const Model loaded = Model::load(path);
    CHECK(loaded.predict(X_test) == by_hand);
    CHECK(loaded.predict_proba(X_test) == model.predict_proba(X_test));
}

TEST_CASE("k-means distances feed a logistic regression through a pipeline", "[models][pipeline]") {
    Matrix<float> X, X_test;
    Labels y, y_test;
    make_data(X, y, 160, 3);
    make_data(X_test, y_test, 80, 4);
    auto model = feral::make_pipeline(feral::StandardScaler<float>{}, feral::KMeans<float>({.n_clusters = 8, .n_init = 2}),
                                      feral::LogisticRegression<float>({.penalty = feral::Penalty::none, .max_iter = 500}));
    model.fit(X, y);
    CHECK(model.step<1>().cluster_centers().rows() == 8);
    CHECK(model.predict_proba(X_test).cols() == 4);
    CHECK(model.score(X_test, y_test) > 0.5);
}

TEST_CASE("cross_val_score of GaussianNB matches scikit-learn's per fold", "[models][model_selection]") {
    const feral::test::Fixture fx(feral::test::fixture("models/model_selection_cv.txt"));
    const Matrix<double> X = fx.as<double>("X");
    const Labels y = fx.labels("y");
    const Eigen::MatrixXd expected = fx.matrix("gaussian_nb_scores");
    const auto scores = feral::cross_val_score(feral::GaussianNB<double>{}, X, y, {.n_splits = 5, .n_threads = 2});
    REQUIRE(scores.size() == 5);
    for (std::size_t f = 0; f < 5; ++f) CHECK(scores[f] == Approx(expected(static_cast<Eigen::Index>(f), 0)).epsilon(1e-12));
}

TEST_CASE("cross_val_score of a real pipeline does not depend on the thread count", "[models][model_selection]") {
    Matrix<float> X;
    Labels y;
    make_data(X, y, 120, 5);
    const auto model = feral::make_pipeline(feral::StandardScaler<float>{}, feral::PCA<float>({.n_components = 4}),
                                            feral::KNeighborsClassifier<float>({.n_neighbors = 5}));
    const auto one = feral::cross_val_score(model, X, y, {.n_splits = 4, .n_threads = 1});
    const auto two = feral::cross_val_score(model, X, y, {.n_splits = 4, .n_threads = 2});
    CHECK(one == two);
    for (double s : one) CHECK(s > 0.5);
}
