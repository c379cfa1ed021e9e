#include "models/pipeline_test_estimators.hpp"

#include <feral/models/grid_search.hpp>
#include <feral/models/pipeline.hpp>

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

namespace {
using feral::Labels;
using feral::Matrix;
using feral::Params;
using feral::ParamGrid;
using feral::test::ToyKNN;

feral::test::Fixture grid_fixture() { return feral::test::Fixture(feral::test::fixture("models/model_selection_grid.txt")); }

auto knn_factory() {
    return [](const Params& p) {
        return ToyKNN<double>({.n_neighbors = p.get<int>("n_neighbors"), .weights = p.get<std::string>("weights")});
    };
}

// Scores a candidate by a table lookup: score = table[value of "which"], whatever the data.
struct TableEstimator {
    TableEstimator& fit(feral::ConstMatrixRef<float>, feral::ConstLabelsRef) { return *this; }
    double score(feral::ConstMatrixRef<float>, feral::ConstLabelsRef) const { return value; }
    double value = 0.0;
};

Matrix<float> small_data(Labels& y) {
    Matrix<float> X(12, 2);
    y.resize(12);
    for (feral::Index i = 0; i < 12; ++i) {
        X.row(i) << static_cast<float>(i), static_cast<float>(i % 3);
        y[i] = static_cast<int>(i % 2);
    }
    return X;
}
}  // namespace

TEST_CASE("A parameter grid lists candidates in scikit-learn's ParameterGrid order", "[models][grid_search]") {
    const ParamGrid grid{{"weights", {"uniform", "distance"}}, {"n_neighbors", {1, 3, 5}}};
    REQUIRE(grid.size() == 6);
    const auto candidates = grid.candidates();
    REQUIRE(candidates.size() == 6);
    // names sorted (n_neighbors < weights), the last name varying fastest
    CHECK(candidates[0] == Params{{"n_neighbors", 1}, {"weights", "uniform"}});
    CHECK(candidates[1] == Params{{"n_neighbors", 1}, {"weights", "distance"}});
    CHECK(candidates[2] == Params{{"n_neighbors", 3}, {"weights", "uniform"}});
    CHECK(candidates[5] == Params{{"n_neighbors", 5}, {"weights", "distance"}});
    CHECK(candidates[1].to_string() == "{'n_neighbors': 1, 'weights': 'distance'}");
    CHECK(ParamGrid{}.candidates().size() == 1);
}

TEST_CASE("Params hand out typed values and name what is wrong", "[models][grid_search]") {
    const Params p{{"C", 0.5}, {"degree", 3}, {"kernel", "rbf"}, {"shrinking", true}};
    CHECK(p.get<double>("C") == 0.5);
    CHECK(p.get<double>("degree") == 3.0);  // integers widen to real numbers
    CHECK(p.get<int>("degree") == 3);
    CHECK(p.get<std::string>("kernel") == "rbf");
    CHECK(p.get<bool>("shrinking"));
    CHECK(p.contains("kernel"));
    CHECK_FALSE(p.contains("gamma"));
    CHECK_THROWS_AS(p.get<int>("C"), feral::invalid_argument);
    CHECK_THROWS_WITH(p.get<int>("C"), Catch::Contains("'C'") && Catch::Contains("0.5") && Catch::Contains("not an integer"));
    CHECK_THROWS_WITH(p.get<double>("gamma"), Catch::Contains("no parameter 'gamma'") && Catch::Contains("C, degree, kernel, shrinking"));
    CHECK_THROWS_WITH((Params{{"a", 1}, {"a", 2}}), Catch::Contains("'a' is given twice"));
    CHECK_THROWS_WITH((ParamGrid{{"k", {}}}), Catch::Contains("'k' has no values"));
    CHECK_THROWS_AS((ParamGrid{{"k", {1}}, {"k", {2}}}), feral::invalid_argument);
}

TEST_CASE("GridSearchCV over k-NN matches scikit-learn's cv_results, best parameters and best score",
          "[models][grid_search]") {
    const auto fx = grid_fixture();
    const Matrix<double> X = fx.as<double>("X");
    const Labels y = fx.labels("y");
    const ParamGrid grid{{"n_neighbors", {1, 3, 5, 7, 9, 11}}, {"weights", {"uniform", "distance"}}};
    feral::GridSearchCV search(knn_factory(), grid, {.n_splits = 4, .n_threads = 2});
    search.fit(X, y);

    const auto& r = search.cv_results();
    const Eigen::MatrixXd n_neighbors = fx.matrix("cand_n_neighbors");
    const Eigen::MatrixXd distance = fx.matrix("cand_weights");
    const Eigen::MatrixXd mean = fx.matrix("mean_test_score");
    const Eigen::MatrixXd stddev = fx.matrix("std_test_score");
    const Eigen::MatrixXd rank = fx.matrix("rank_test_score");
    const Eigen::MatrixXd split = fx.matrix("split_test_score");
    REQUIRE(r.params.size() == 12);
    for (Eigen::Index c = 0; c < 12; ++c) {
        const auto& p = r.params[static_cast<std::size_t>(c)];
        CHECK(p.get<int>("n_neighbors") == static_cast<int>(n_neighbors(c, 0)));
        CHECK((p.get<std::string>("weights") == "distance") == (distance(c, 0) == 1.0));
        for (Eigen::Index f = 0; f < 4; ++f) CHECK(r.split_test_score(c, f) == split(c, f));
        CHECK(r.mean_test_score[static_cast<std::size_t>(c)] == mean(c, 0));  // bit for bit: ranks depend on it
        CHECK(r.std_test_score[static_cast<std::size_t>(c)] == Approx(stddev(c, 0)).margin(1e-12));
        CHECK(r.rank_test_score[static_cast<std::size_t>(c)] == static_cast<int>(rank(c, 0)));
    }
    CHECK(search.best_index() == static_cast<feral::Index>(fx.scalar("best_index")));
    CHECK(search.best_score() == fx.scalar("best_score"));
    CHECK(search.best_params().get<int>("n_neighbors") == static_cast<int>(fx.scalar("best_n_neighbors")));
    CHECK((search.best_params().get<std::string>("weights") == "distance") == (fx.scalar("best_weights") == 1.0));

    // the refitted best model is the best candidate fitted on all the data
    ToyKNN<double> best({.n_neighbors = static_cast<int>(fx.scalar("best_n_neighbors")),
                         .weights = fx.scalar("best_weights") == 1.0 ? "distance" : "uniform"});
    best.fit(X, y);
    CHECK(search.predict(X) == best.predict(X));
    CHECK(search.score(X, y) == best.score(X, y));
    CHECK(search.is_fitted());
}

TEST_CASE("GridSearchCV gives the same results for any thread count", "[models][grid_search]") {
    const auto fx = grid_fixture();
    const Matrix<double> X = fx.as<double>("X");
    const Labels y = fx.labels("y");
    const ParamGrid grid{{"n_neighbors", {1, 4, 9}}, {"weights", {"uniform", "distance"}}};
    feral::GridSearchCV one(knn_factory(), grid, {.n_splits = 3, .shuffle = true, .random_state = 5, .n_threads = 1});
    feral::GridSearchCV three(knn_factory(), grid, {.n_splits = 3, .shuffle = true, .random_state = 5, .n_threads = 3});
    one.fit(X, y);
    three.fit(X, y);
    CHECK(one.cv_results().split_test_score == three.cv_results().split_test_score);
    CHECK(one.best_params() == three.best_params());
}

TEST_CASE("GridSearchCV breaks ties in favour of the first best candidate, as scikit-learn", "[models][grid_search]") {
    Labels y;
    const Matrix<float> X = small_data(y);
    // scores 0.2, 0.9, 0.5, 0.9, 0.9: candidates 1, 3 and 4 tie; rank "min" gives 1, 1, 1 and 4, 5.
    const std::vector<double> table = {0.2, 0.9, 0.5, 0.9, 0.9};
    feral::GridSearchCV search([&](const Params& p) { return TableEstimator{table[static_cast<std::size_t>(p.get<int>("which"))]}; },
                               ParamGrid{{"which", {0, 1, 2, 3, 4}}}, {.n_splits = 3});
    search.fit(X, y);
    CHECK(search.best_index() == 1);
    CHECK(search.best_params().get<int>("which") == 1);
    CHECK(search.cv_results().rank_test_score == std::vector<int>{5, 1, 4, 1, 1});
    CHECK(search.cv_results().std_test_score[0] == Approx(0.0).margin(1e-15));
}

TEST_CASE("GridSearchCV searches several grids one after another", "[models][grid_search]") {
    Labels y;
    const Matrix<float> X = small_data(y);
    std::vector<ParamGrid> grids{ParamGrid{{"value", {0.1, 0.3}}}, ParamGrid{{"value", {0.7}}, {"boost", {true, false}}}};
    feral::GridSearchCV search(
        [](const Params& p) { return TableEstimator{p.get<double>("value") + (p.contains("boost") && p.get<bool>("boost") ? 0.1 : 0.0)}; },
        grids, {.n_splits = 2, .refit = false});
    search.fit(X, y);
    REQUIRE(search.cv_results().params.size() == 4);
    CHECK(search.cv_results().params[2] == Params{{"boost", true}, {"value", 0.7}});
    CHECK(search.best_index() == 2);
    CHECK(search.best_score() == Approx(0.8));
    CHECK_THROWS_AS(search.best_estimator(), feral::not_fitted);
    CHECK(search.is_fitted());  // searched; there is just no refitted estimator
}

TEST_CASE("GridSearchCV reports bad settings, bad data and failing candidates with typed errors", "[models][grid_search]") {
    Labels y;
    const Matrix<float> X = small_data(y);
    auto factory = [](const Params& p) { return TableEstimator{p.get<double>("value")}; };
    feral::GridSearchCV unfitted(factory, ParamGrid{{"value", {1.0}}});
    CHECK_THROWS_AS(unfitted.best_params(), feral::not_fitted);
    CHECK_THROWS_AS(unfitted.score(X, y), feral::not_fitted);

    CHECK_THROWS_WITH(feral::GridSearchCV(factory, ParamGrid{{"value", {1.0}}}, {.n_splits = 0}).fit(X, y),
                      Catch::Contains("GridSearchCV::fit") && Catch::Contains("n_splits") && Catch::Contains("0"));
    CHECK_THROWS_AS(feral::GridSearchCV(factory, ParamGrid{{"value", {1.0}}}, {.n_splits = 20}).fit(X, y), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::GridSearchCV(factory, std::vector<ParamGrid>{}).fit(X, y), Catch::Contains("empty"));
    CHECK_THROWS_WITH(feral::GridSearchCV(factory, ParamGrid{{"value", {1.0}}}).fit(X, Labels(y.head(5))),
                      Catch::Contains("12 samples") && Catch::Contains("5 labels"));
    // a candidate whose parameter has the wrong type: the message names the candidate and the fold
    CHECK_THROWS_WITH(feral::GridSearchCV(factory, ParamGrid{{"value", {"high"}}}, {.n_splits = 2}).fit(X, y),
                      Catch::Contains("candidate 0 {'value': 'high'}") && Catch::Contains("not a number"));

    const auto fx = grid_fixture();
    const Matrix<double> Xk = fx.as<double>("X");
    const Labels yk = fx.labels("y");
    feral::GridSearchCV knn(knn_factory(), ParamGrid{{"n_neighbors", {3, 0}}, {"weights", {"uniform"}}}, {.n_splits = 3});
    CHECK_THROWS_AS(knn.fit(Xk, yk), feral::invalid_argument);
    CHECK_THROWS_WITH(knn.fit(Xk, yk), Catch::Contains("'n_neighbors': 0") && Catch::Contains("ToyKNN::fit"));
}
