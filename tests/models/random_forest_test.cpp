// RandomForestClassifier against scikit-learn 1.2 (statistically: the random streams differ).
#include "feral/models/random_forest.hpp"

#include "fer2013_subset.hpp"
#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <vector>

using feral::Index;
using feral::RandomForestClassifier;

namespace {
double mean_of(const Eigen::MatrixXd& m) { return std::accumulate(m.data(), m.data() + m.size(), 0.0) / static_cast<double>(m.size()); }

std::vector<Index> top_features(const Eigen::VectorXd& importance, Index count) {
    std::vector<Index> order(static_cast<std::size_t>(importance.size()));
    std::iota(order.begin(), order.end(), Index{0});
    std::sort(order.begin(), order.end(), [&](Index a, Index b) { return importance[a] > importance[b]; });
    order.resize(static_cast<std::size_t>(count));
    std::sort(order.begin(), order.end());
    return order;
}
}  // namespace

TEST_CASE("A forest is as accurate as scikit-learn's and ranks the informative features first", "[forest]") {
    feral::test::Fixture fx(feral::test::fixture("models/forest_informative.txt"));
    const auto Xtr = fx.as<float>("X_train");
    const auto ytr = fx.labels("y_train");
    const auto Xte = fx.as<float>("X_test");
    const auto yte = fx.labels("y_test");
    // Mean over seeds on both sides; scikit-learn's seed-to-seed spread here is about 0.01.
    double accuracy = 0.0, accuracy5 = 0.0;
    Eigen::VectorXd importance = Eigen::VectorXd::Zero(Xtr.cols());
    for (std::uint64_t seed = 0; seed < 3; ++seed) {
        RandomForestClassifier<> forest({.random_state = seed});
        forest.fit(Xtr, ytr);
        accuracy += forest.score(Xte, yte) / 3.0;
        importance += forest.feature_importances() / 3.0;
        const auto imp = forest.feature_importances();
        CHECK(std::accumulate(imp.begin(), imp.end(), 0.0) == Approx(1.0));
        accuracy5 += RandomForestClassifier<>({.max_depth = 5, .random_state = seed}).fit(Xtr, ytr).score(Xte, yte) / 3.0;
    }
    CHECK(accuracy >= mean_of(fx.matrix("accuracy")) - 0.02);
    CHECK(accuracy5 >= mean_of(fx.matrix("accuracy_depth5")) - 0.02);
    const Eigen::VectorXd expected = fx.matrix("importances").col(0);
    CHECK(top_features(importance, 3) == std::vector<Index>{0, 1, 2});
    CHECK(top_features(expected, 3) == std::vector<Index>{0, 1, 2});
    for (Index f = 0; f < importance.size(); ++f) CHECK(importance[f] == Approx(expected[f]).margin(0.03));
}

TEST_CASE("A forest is identical whatever the thread count", "[forest]") {
    feral::test::Fixture fx(feral::test::fixture("models/forest_informative.txt"));
    const auto X = fx.as<float>("X_train");
    const auto y = fx.labels("y_train");
    for (const auto& weight : {feral::ClassWeight::none(), feral::ClassWeight::balanced_subsample()}) {
        RandomForestClassifier<> one({.n_estimators = 12, .max_features = feral::MaxFeatures::fraction(0.5), .max_samples = 0.7,
                                      .class_weight = weight, .random_state = 9, .n_threads = 1});
        RandomForestClassifier<> two(one.config());
        auto config = one.config();
        config.n_threads = 2;
        two = RandomForestClassifier<>(config);
        one.fit(X, y);
        two.fit(X, y);
        REQUIRE(one.trees().size() == two.trees().size());
        for (std::size_t t = 0; t < one.trees().size(); ++t) {
            const auto& a = one.trees()[t];
            const auto& b = two.trees()[t];
            REQUIRE(a.nodes.size() == b.nodes.size());
            CHECK(std::equal(a.values.begin(), a.values.end(), b.values.begin()));
            for (std::size_t i = 0; i < a.nodes.size(); ++i) {
                CHECK(a.nodes[i].feature == b.nodes[i].feature);
                CHECK(a.nodes[i].threshold == b.nodes[i].threshold);
            }
        }
        CHECK(one.predict_proba(X) == two.predict_proba(X));
        // A different seed grows a different forest.
        auto other = one.config();
        other.random_state = 10;
        CHECK(RandomForestClassifier<>(other).fit(X, y).predict_proba(X) != one.predict_proba(X));
    }
}

TEST_CASE("Forest probabilities are the mean of its trees' leaf fractions", "[forest]") {
    feral::test::Fixture fx(feral::test::fixture("models/forest_informative.txt"));
    const auto X = fx.as<double>("X_train");
    const auto y = fx.labels("y_train");
    RandomForestClassifier<double> forest({.n_estimators = 7, .max_depth = 3, .bootstrap = false, .random_state = 2});
    forest.fit(X, y);
    const auto proba = forest.predict_proba(X.topRows(20));
    for (Index i = 0; i < 20; ++i) {
        std::vector<double> expected(3, 0.0);
        for (const auto& tree : forest.trees()) tree.add_proba(X.row(i).data(), expected.data());
        for (Index k = 0; k < 3; ++k) CHECK(proba(i, k) == Approx(expected[static_cast<std::size_t>(k)] / 7.0));
        CHECK(proba(i, 0) + proba(i, 1) + proba(i, 2) == Approx(1.0));
    }
    for (const auto& tree : forest.trees()) CHECK(tree.depth() <= 3);
}

TEST_CASE("The forest rejects bad parameters and loads only its own files", "[forest]") {
    feral::test::Fixture fx(feral::test::fixture("models/forest_informative.txt"));
    const auto X = fx.as<float>("X_train");
    const auto y = fx.labels("y_train");
    using E = feral::invalid_argument;
    CHECK_THROWS_AS(RandomForestClassifier<>().predict(X), feral::not_fitted);
    CHECK_THROWS_WITH(RandomForestClassifier<>({.n_estimators = 0}).fit(X, y), Catch::Contains("n_estimators = 0"));
    CHECK_THROWS_AS(RandomForestClassifier<>({.max_depth = -2}).fit(X, y), E);
    CHECK_THROWS_WITH(RandomForestClassifier<>({.max_samples = 1.5}).fit(X, y), Catch::Contains("max_samples = 1.5"));
    CHECK_THROWS_AS(RandomForestClassifier<>({.max_samples = 100000}).fit(X, y), E);
    CHECK_THROWS_AS(RandomForestClassifier<>({.bootstrap = false, .class_weight = feral::ClassWeight::balanced_subsample()}).fit(X, y), E);
    CHECK_THROWS_AS(RandomForestClassifier<>().fit(X, feral::Labels::Ones(X.rows())), E);

    RandomForestClassifier<> forest({.n_estimators = 5, .random_state = 3});
    forest.fit(X, y);
    const auto dir = feral::test::scratch_dir("random_forest_save");
    forest.save(dir / "forest.feral");
    const auto loaded = RandomForestClassifier<>::load(dir / "forest.feral");
    CHECK(loaded.predict_proba(X) == forest.predict_proba(X));
    CHECK(loaded.feature_importances() == forest.feature_importances());
    feral::DecisionTreeClassifier<> tree;
    tree.fit(X, y);
    tree.save(dir / "tree.feral");
    CHECK_THROWS_AS(RandomForestClassifier<>::load(dir / "tree.feral"), feral::format_error);
    CHECK_THROWS_AS(forest.predict(X.leftCols(4)), E);
}

TEST_CASE("On a FER2013 subset the forests match scikit-learn's accuracy", "[forest][fer2013]") {
    auto root = feral::test::fer2013_root("forest FER2013 subset");
    if (!root) return;
    feral::test::Fixture fx(feral::test::fixture("models/forest_svc_fer2013.txt"));
    auto [Xtr, ytr] = feral::test::load_fer2013_subset(*root, "train", static_cast<Index>(fx.scalar("n_train")));
    auto [Xte, yte] = feral::test::load_fer2013_subset(*root, "test", static_cast<Index>(fx.scalar("n_test")));
    Xtr /= 255.0f;  // pixels / 255, as the fixture script
    Xte /= 255.0f;
    double full = 0.0, depth5 = 0.0;
    // Standardised pixels for the depth-5 forest (rf_depth5's preprocessing).
    const feral::RowVector<float> mean = Xtr.colwise().mean();
    feral::RowVector<float> sd = ((Xtr.rowwise() - mean).array().square().colwise().mean()).sqrt();
    for (Index j = 0; j < sd.size(); ++j) sd[j] = sd[j] == 0 ? 1.0f : sd[j];
    const feral::Matrix<float> Str = (Xtr.rowwise() - mean).array().rowwise() / sd.array();
    const feral::Matrix<float> Ste = (Xte.rowwise() - mean).array().rowwise() / sd.array();
    for (std::uint64_t seed = 0; seed < 3; ++seed) {
        full += RandomForestClassifier<>({.random_state = seed}).fit(Xtr, ytr).score(Xte, yte) / 3.0;
        depth5 += RandomForestClassifier<>({.max_depth = 5, .random_state = seed}).fit(Str, ytr).score(Ste, yte) / 3.0;
    }
    // Seed means on 350 test images: scikit-learn's seed-to-seed spread is about 0.018, so the
    // difference of a three-seed and a five-seed mean has a standard error of about 0.013; the
    // bar is "no worse than 2 standard errors" (the full-data benchmark checks the 1-point
    // target: 0.4624 vs 0.462 and 0.3274 vs 0.326, benchmarks/RESULTS.md).
    INFO("feral " << full << " / " << depth5 << ", scikit-learn " << mean_of(fx.matrix("rf_full_accuracy")) << " / "
                  << mean_of(fx.matrix("rf_depth5_accuracy")));
    CHECK(full >= mean_of(fx.matrix("rf_full_accuracy")) - 0.026);
    CHECK(depth5 >= mean_of(fx.matrix("rf_depth5_accuracy")) - 0.026);
}
