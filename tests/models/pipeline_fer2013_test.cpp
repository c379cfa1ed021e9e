// Grid search over a scaler -> PCA -> k-NN pipeline on real FER2013 faces.
#include <feral/data/folder_loader.hpp>
#include <feral/data/resample.hpp>
#include <feral/data/transforms.hpp>
#include <feral/features/pca.hpp>
#include <feral/models/grid_search.hpp>
#include <feral/models/knn.hpp>
#include <feral/models/pipeline.hpp>

#include "test_support.hpp"

#include <catch2/catch.hpp>

TEST_CASE("Grid search over PCA size and k picks a better-than-chance face classifier, for any thread count",
          "[models][grid_search][fer2013]") {
    auto root = feral::test::fer2013_root("pipeline_fer2013");
    if (!root) return;
    const auto train = feral::first_n_per_class(feral::load_image_folder(*root / "train", {.keep_sources = false}).data, 30);
    const auto test = feral::first_n_per_class(feral::load_image_folder(*root / "test", {.keep_sources = false}).data, 30);
    const feral::Matrix<float> X = feral::to_float<float>(train, feral::PixelScale::raw);
    const feral::Matrix<float> X_test = feral::to_float<float>(test, feral::PixelScale::raw);

    auto factory = [](const feral::Params& p) {
        return feral::make_pipeline(feral::GlobalStandardizer<float>{},
                                    feral::PCA<float>({.n_components = p.get<feral::Index>("pca")}),
                                    feral::KNeighborsClassifier<float>({.n_neighbors = p.get<feral::Index>("k")}));
    };
    const feral::ParamGrid grid{{"pca", {10, 30}}, {"k", {1, 9}}};
    feral::GridSearchCV serial(factory, grid, {.n_splits = 3, .n_threads = 1});
    feral::GridSearchCV parallel(factory, grid, {.n_splits = 3, .n_threads = 2});
    serial.fit(X, train.labels);
    parallel.fit(X, train.labels);

    CHECK(serial.cv_results().split_test_score == parallel.cv_results().split_test_score);
    CHECK(serial.best_params() == parallel.best_params());
    CHECK(serial.best_score() > 1.0 / 7.0 + 0.03);  // 7 balanced classes: chance is 14%
    CHECK(parallel.score(X_test, test.labels) > 1.0 / 7.0);
}
