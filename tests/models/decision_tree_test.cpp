// DecisionTreeClassifier against scikit-learn 1.2 fixtures (tools/fixtures/make_sklearn_fixtures_trees_svm.py).
#include "feral/models/decision_tree.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using feral::Criterion;
using feral::DecisionTreeClassifier;
using feral::Index;

namespace {
void check_same_tree(const feral::detail::Tree& tree, const feral::test::Fixture& fx, bool check_right) {
    const auto left = fx.matrix("children_left");
    const auto feature = fx.matrix("feature");
    const auto threshold = fx.matrix("threshold");
    const auto impurity = fx.matrix("impurity");
    const auto value = fx.matrix("value");
    REQUIRE(static_cast<Index>(tree.nodes.size()) == left.rows());
    for (Index i = 0; i < left.rows(); ++i) {
        const auto& node = tree.nodes[static_cast<std::size_t>(i)];
        INFO("node " << i);
        CHECK(node.left == static_cast<int>(left(i, 0)));
        if (check_right) CHECK(node.right == static_cast<int>(fx.matrix("children_right")(i, 0)));
        CHECK(node.feature == static_cast<int>(feature(i, 0) < 0 ? -1 : feature(i, 0)));
        if (node.feature >= 0) CHECK(node.threshold == Approx(threshold(i, 0)).margin(1e-6));
        CHECK(node.impurity == Approx(impurity(i, 0)).margin(1e-9));
        for (Index k = 0; k < value.cols(); ++k)
            CHECK(tree.values[static_cast<std::size_t>(i * value.cols() + k)] == Approx(value(i, k)).margin(1e-9));
    }
}
}  // namespace

TEST_CASE("A depth-4 decision tree has scikit-learn's nodes, thresholds, leaf values and predictions", "[tree]") {
    for (const auto& [name, criterion] : {std::pair{"gini", Criterion::gini}, std::pair{"entropy", Criterion::entropy}}) {
        SECTION(name) {
            feral::test::Fixture fx(feral::test::fixture(std::string("models/tree_") + name + ".txt"));
            const auto X = fx.as<float>("X");
            const auto y = fx.labels("y");
            DecisionTreeClassifier<> tree({.criterion = criterion, .max_depth = 4, .min_samples_leaf = 5});
            tree.fit(X, y);
            check_same_tree(tree.tree(), fx, true);
            CHECK(tree.n_leaves() == static_cast<Index>((fx.matrix("feature").array() < 0).count()));
            const auto Xt = fx.as<float>("X_test");
            const auto proba = tree.predict_proba(Xt);
            const auto expected = fx.matrix("proba");
            for (Index i = 0; i < proba.rows(); ++i)
                for (Index k = 0; k < proba.cols(); ++k) CHECK(proba(i, k) == Approx(expected(i, k)).margin(1e-6));
            CHECK((tree.predict(Xt).array() == fx.labels("predict").array()).all());
            const auto importances = tree.feature_importances();
            CHECK(std::accumulate(importances.begin(), importances.end(), 0.0) == Approx(1.0));
            for (Index f = 0; f < importances.size(); ++f)
                CHECK(importances[f] == Approx(fx.matrix("importances")(f, 0)).margin(1e-9));
            CHECK(tree.classes() == std::vector<int>{0, 2, 5});
        }
    }
}

TEST_CASE("Balanced class weights give scikit-learn's weighted tree", "[tree]") {
    feral::test::Fixture fx(feral::test::fixture("models/tree_balanced.txt"));
    DecisionTreeClassifier<> tree({.max_depth = 3, .class_weight = feral::ClassWeight::balanced()});
    tree.fit(fx.as<float>("X"), fx.labels("y"));
    check_same_tree(tree.tree(), fx, false);
}

TEST_CASE("An unlimited tree fits distinct training points exactly", "[tree]") {
    feral::test::Fixture fx(feral::test::fixture("models/tree_gini.txt"));
    const auto X = fx.as<float>("X");
    const auto y = fx.labels("y");
    DecisionTreeClassifier<double> tree;
    tree.fit(X.cast<double>(), y);
    CHECK(tree.score(X.cast<double>(), y) == 1.0);
    CHECK(tree.depth() > 4);
}

TEST_CASE("Features with more than 256 distinct values are split on quantile bins", "[tree]") {
    // 2,000 distinct values; the class is x > 0.3: a bin edge lies within 1/256 of the quantile.
    const Index n = 2000;
    feral::Matrix<float> X(n, 1);
    feral::Labels y(n);
    for (Index i = 0; i < n; ++i) {
        X(i, 0) = static_cast<float>(i) / static_cast<float>(n);
        y[i] = X(i, 0) > 0.3f ? 1 : 0;
    }
    DecisionTreeClassifier<> tree;
    tree.fit(X, y);
    CHECK(tree.score(X, y) == 1.0);
    CHECK(tree.tree().nodes[0].threshold == Approx(0.3).margin(0.5 / n + 1e-6));
}

TEST_CASE("The decision tree rejects bad input and bad parameters by name", "[tree]") {
    feral::Matrix<float> X(4, 2);
    X << 0, 1, 1, 0, 2, 2, 3, 1;
    feral::Labels y(4);
    y << 0, 1, 0, 1;
    using E = feral::invalid_argument;
    CHECK_THROWS_AS(DecisionTreeClassifier<>().predict(X), feral::not_fitted);
    CHECK_THROWS_WITH(DecisionTreeClassifier<>({.max_depth = -1}).fit(X, y), Catch::Contains("max_depth = -1"));
    CHECK_THROWS_AS(DecisionTreeClassifier<>({.min_samples_split = 1}).fit(X, y), E);
    CHECK_THROWS_AS(DecisionTreeClassifier<>({.min_samples_leaf = 0}).fit(X, y), E);
    CHECK_THROWS_AS(DecisionTreeClassifier<>({.max_features = feral::MaxFeatures::count(3)}).fit(X, y), E);
    CHECK_THROWS_AS(DecisionTreeClassifier<>({.max_features = feral::MaxFeatures::fraction(0)}).fit(X, y), E);
    CHECK_THROWS_AS(DecisionTreeClassifier<>({.class_weight = feral::ClassWeight::custom({{7, 1.0}})}).fit(X, y), E);
    CHECK_THROWS_AS(DecisionTreeClassifier<>().fit(X, feral::Labels::Zero(4)), E);
    CHECK_THROWS_AS(DecisionTreeClassifier<>().fit(X.topRows(3), y), E);
    CHECK_THROWS_AS(DecisionTreeClassifier<>().fit(feral::Matrix<float>(0, 2), feral::Labels(0)), E);
    feral::Matrix<float> bad = X;
    bad(2, 1) = std::nanf("");
    CHECK_THROWS_WITH(DecisionTreeClassifier<>().fit(bad, y), Catch::Contains("row 2"));
    DecisionTreeClassifier<> tree;
    tree.fit(X, y);
    CHECK_THROWS_AS(tree.predict(feral::Matrix<float>(2, 3)), E);
    feral::Labels unseen(4);
    unseen << 0, 1, 9, 1;
    CHECK_THROWS_WITH(tree.score(X, unseen), Catch::Contains("label 9"));
}

TEST_CASE("A saved decision tree loads with identical predictions, and other files are refused", "[tree]") {
    feral::test::Fixture fx(feral::test::fixture("models/tree_entropy.txt"));
    const auto X = fx.as<float>("X");
    DecisionTreeClassifier<> tree({.criterion = Criterion::entropy, .max_depth = 6, .max_features = feral::MaxFeatures::sqrt(),
                                   .random_state = 5});
    tree.fit(X, fx.labels("y"));
    const auto dir = feral::test::scratch_dir("decision_tree_save");
    tree.save(dir / "tree.feral");
    const auto loaded = DecisionTreeClassifier<>::load(dir / "tree.feral");
    CHECK(loaded.predict_proba(X) == tree.predict_proba(X));
    CHECK(loaded.config().random_state == 5);
    CHECK_THROWS_AS(tree.save(dir / "tree.feral"), feral::io_error);
    CHECK_THROWS_AS(DecisionTreeClassifier<double>::load(dir / "tree.feral"), feral::format_error);
}
