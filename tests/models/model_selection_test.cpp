#include "models/pipeline_test_estimators.hpp"

#include <feral/models/model_selection.hpp>
#include <feral/models/pipeline.hpp>

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>

namespace {
using feral::Labels;
using feral::Matrix;
using feral::test::ToyNearestCentroid;
using feral::test::ToyScaler;

feral::test::Fixture cv_fixture() { return feral::test::Fixture(feral::test::fixture("models/model_selection_cv.txt")); }

// An estimator whose score is a fixed function of its training rows, to test the plumbing.
struct CountingEstimator {
    CountingEstimator& fit(feral::ConstMatrixRef<float> X, feral::ConstLabelsRef y) {
        if (X.rows() != y.size()) throw feral::invalid_argument("CountingEstimator::fit: size mismatch");
        trained_on = X.rows();
        first_value = X(0, 0);
        return *this;
    }
    double score(feral::ConstMatrixRef<float> X, feral::ConstLabelsRef) const {
        return static_cast<double>(trained_on) + static_cast<double>(X.rows()) / 1000.0;
    }
    feral::Index trained_on = 0;
    float first_value = 0;
};

struct FailingEstimator {
    FailingEstimator& fit(feral::ConstMatrixRef<float>, feral::ConstLabelsRef) {
        throw feral::numerical_error("FailingEstimator::fit: the loss diverged");
    }
    double score(feral::ConstMatrixRef<float>, feral::ConstLabelsRef) const { return 0.0; }
};
}  // namespace

TEST_CASE("The folds cross_val_score uses are scikit-learn's StratifiedKFold folds", "[models][model_selection]") {
    const auto fx = cv_fixture();
    const Labels y = fx.labels("y");
    const Labels expected_fold = fx.labels("test_fold");
    const auto folds = feral::stratified_kfold(y, 5);
    REQUIRE(folds.size() == 5);
    for (std::size_t f = 0; f < folds.size(); ++f) {
        std::vector<feral::Index> expected;
        for (feral::Index i = 0; i < y.size(); ++i)
            if (expected_fold[i] == static_cast<int>(f)) expected.push_back(i);
        CHECK(folds[f].test == expected);
    }
}

TEST_CASE("cross_val_score of a nearest-centroid model matches scikit-learn's per fold", "[models][model_selection]") {
    const auto fx = cv_fixture();
    const Matrix<double> X = fx.as<double>("X");
    const Labels y = fx.labels("y");
    const Eigen::MatrixXd expected = fx.matrix("nearest_centroid_scores");
    const auto scores = feral::cross_val_score(ToyNearestCentroid<double>{}, X, y, {.n_splits = 5});
    REQUIRE(scores.size() == 5);
    for (std::size_t f = 0; f < scores.size(); ++f) CHECK(scores[f] == Approx(expected(static_cast<Eigen::Index>(f), 0)).epsilon(1e-12));

    const Matrix<float> Xf = X.cast<float>();
    const auto float_scores = feral::cross_val_score(ToyNearestCentroid<float>{}, Xf, y, {.n_splits = 5});
    CHECK(float_scores == scores);
}

TEST_CASE("cross_val_score fits each fold on the training rows and scores on the test rows", "[models][model_selection]") {
    Matrix<float> X(20, 2);
    for (feral::Index i = 0; i < 20; ++i) X.row(i) << static_cast<float>(i), 1.0f;
    Labels y(20);
    for (feral::Index i = 0; i < 20; ++i) y[i] = static_cast<int>(i % 2);
    const auto scores = feral::cross_val_score(CountingEstimator{}, X, y, {.n_splits = 4});
    REQUIRE(scores.size() == 4);
    for (double s : scores) CHECK(s == Approx(15.005));  // 15 training rows, 5 test rows

    std::vector<feral::Fold> folds(2);
    folds[0] = {{0, 1, 2}, {3, 4}};
    folds[1] = {{5, 6, 7, 8, 9, 10}, {11}};
    const auto custom = feral::cross_val_score<float>(CountingEstimator{}, X, y, folds, 2);
    REQUIRE(custom.size() == 2);
    CHECK(custom[0] == Approx(3.002));
    CHECK(custom[1] == Approx(6.001));
}

TEST_CASE("cross_val_score leaves the given estimator untouched and gives the same scores for any thread count",
          "[models][model_selection]") {
    const auto fx = cv_fixture();
    const Matrix<float> X = fx.as<float>("X");
    const Labels y = fx.labels("y");
    auto model = feral::make_pipeline(ToyScaler<float>{}, ToyNearestCentroid<float>{});
    const auto one = feral::cross_val_score(model, X, y, {.n_splits = 5, .n_threads = 1});
    const auto three = feral::cross_val_score(model, X, y, {.n_splits = 5, .n_threads = 3});
    CHECK(one == three);
    CHECK_FALSE(model.is_fitted());

    const auto shuffled = feral::cross_val_score(model, X, y, {.n_splits = 5, .shuffle = true, .random_state = 3});
    const auto again = feral::cross_val_score(model, X, y, {.n_splits = 5, .shuffle = true, .random_state = 3, .n_threads = 2});
    CHECK(shuffled == again);
}

TEST_CASE("cross_val_score rejects impossible settings and bad input with typed errors", "[models][model_selection]") {
    const auto fx = cv_fixture();
    const Matrix<float> X = fx.as<float>("X");
    const Labels y = fx.labels("y");
    CHECK_THROWS_WITH(feral::cross_val_score(ToyNearestCentroid<float>{}, X, y, {.n_splits = 1}),
                      Catch::Contains("cross_val_score") && Catch::Contains("n_splits") && Catch::Contains("1"));
    CHECK_THROWS_AS(feral::cross_val_score(ToyNearestCentroid<float>{}, X, y, {.n_splits = 1000}), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::cross_val_score(ToyNearestCentroid<float>{}, X, Labels(y.head(10)), {}),
                      Catch::Contains("67 samples") && Catch::Contains("10 labels"));
    CHECK_THROWS_AS(feral::cross_val_score(ToyNearestCentroid<float>{}, Matrix<float>(0, 3), Labels(), {}), feral::invalid_argument);
    CHECK_THROWS_AS(feral::cross_val_score(ToyNearestCentroid<float>{}, X, y, {.n_threads = -2}), feral::invalid_argument);

    Matrix<float> with_nan = X;
    with_nan(5, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(feral::cross_val_score(ToyNearestCentroid<float>{}, with_nan, y, {}), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::cross_val_score(ToyNearestCentroid<float>{}, with_nan, y, {}), Catch::Contains("fold"));

    CHECK_THROWS_AS(feral::cross_val_score(FailingEstimator{}, X, y, {.n_splits = 3}), feral::numerical_error);
    CHECK_THROWS_WITH(feral::cross_val_score(FailingEstimator{}, X, y, {.n_splits = 3}),
                      Catch::Contains("cross_val_score: fold") && Catch::Contains("diverged"));

    std::vector<feral::Fold> bad_rows(1);
    bad_rows[0] = {{0, 1, 2}, {500}};
    CHECK_THROWS_WITH(feral::cross_val_score<float>(ToyNearestCentroid<float>{}, X, y, bad_rows),
                      Catch::Contains("row 500"));
}
