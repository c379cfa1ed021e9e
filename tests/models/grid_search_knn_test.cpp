// GridSearchCV over feral's KNeighborsClassifier, checked against scikit-learn 1.2.
#include <feral/models/grid_search.hpp>
#include <feral/models/knn.hpp>

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

TEST_CASE("GridSearchCV over feral's k-NN finds scikit-learn's best parameters, score and ranking",
          "[models][grid_search]") {
    const feral::test::Fixture fx(feral::test::fixture("models/model_selection_grid.txt"));
    const feral::Matrix<float> X = fx.as<float>("X");
    const feral::Labels y = fx.labels("y");
    auto factory = [](const feral::Params& p) {
        const std::string weights = p.get<std::string>("weights");
        return feral::KNeighborsClassifier<float>(
            {.n_neighbors = p.get<feral::Index>("n_neighbors"),
             .weights = weights == "distance" ? feral::NeighborWeights::distance : feral::NeighborWeights::uniform});
    };
    feral::GridSearchCV search(factory,
                               feral::ParamGrid{{"n_neighbors", {1, 3, 5, 7, 9, 11}}, {"weights", {"uniform", "distance"}}},
                               {.n_splits = 4});
    search.fit(X, y);

    CHECK(search.best_index() == static_cast<feral::Index>(fx.scalar("best_index")));
    CHECK(search.best_score() == fx.scalar("best_score"));
    CHECK(search.best_params().get<int>("n_neighbors") == static_cast<int>(fx.scalar("best_n_neighbors")));
    const Eigen::MatrixXd mean = fx.matrix("mean_test_score");
    const Eigen::MatrixXd rank = fx.matrix("rank_test_score");
    for (Eigen::Index c = 0; c < mean.rows(); ++c) {
        CHECK(search.cv_results().mean_test_score[static_cast<std::size_t>(c)] == mean(c, 0));
        CHECK(search.cv_results().rank_test_score[static_cast<std::size_t>(c)] == static_cast<int>(rank(c, 0)));
    }
    CHECK(search.best_estimator().config().n_neighbors == static_cast<feral::Index>(fx.scalar("best_n_neighbors")));
    CHECK(search.score(X, y) == 1.0);  // distance-weighted votes recover every training row
}
