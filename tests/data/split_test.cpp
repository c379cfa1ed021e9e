// Tests for feral/data/split.hpp: stratified k-fold (against scikit-learn 1.2) and
// stratified train/validation/test splits.
#include "feral/data/split.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <sstream>

namespace {
std::vector<feral::Index> count_by_class(const feral::Labels& y, const std::vector<feral::Index>& rows, int n_classes) {
    std::vector<feral::Index> counts(static_cast<std::size_t>(n_classes), 0);
    for (auto r : rows) ++counts[static_cast<std::size_t>(y[r])];
    return counts;
}
}  // namespace

TEST_CASE("stratified_kfold assigns the same test folds as scikit-learn's StratifiedKFold", "[data][split]") {
    const feral::test::Fixture fx(feral::test::fixture("data/stratified_kfold.txt"));
    std::istringstream cases(fx.text("cases"));
    std::string name;
    int checked = 0;
    while (cases >> name) {
        INFO("case " << name);
        const feral::Labels y = fx.labels(name + "_y");
        const int k = static_cast<int>(fx.scalar(name + "_k"));
        const feral::Labels expected = fx.labels(name + "_fold");
        const auto folds = feral::stratified_kfold(y, k);
        REQUIRE(folds.size() == static_cast<std::size_t>(k));
        feral::Labels got = feral::Labels::Constant(y.size(), -1);
        for (int f = 0; f < k; ++f) {
            const auto& fold = folds[static_cast<std::size_t>(f)];
            CHECK(std::is_sorted(fold.test.begin(), fold.test.end()));
            CHECK(std::is_sorted(fold.train.begin(), fold.train.end()));
            CHECK(fold.train.size() + fold.test.size() == static_cast<std::size_t>(y.size()));
            for (auto i : fold.test) {
                CHECK(got[i] == -1);
                got[i] = f;
            }
            std::set<feral::Index> train(fold.train.begin(), fold.train.end());
            for (auto i : fold.test) CHECK(train.count(i) == 0);
        }
        CHECK(got == expected);
        ++checked;
    }
    CHECK(checked == 5);
}

TEST_CASE("stratified_kfold with shuffle keeps per-fold class counts and depends only on the seed", "[data][split]") {
    feral::Labels y(60);
    for (int i = 0; i < 60; ++i) y[i] = (i * 7) % 4;
    const auto plain = feral::stratified_kfold(y, 3);
    const auto a = feral::stratified_kfold(y, 3, true, 11);
    const auto b = feral::stratified_kfold(y, 3, true, 11);
    const auto c = feral::stratified_kfold(y, 3, true, 12);
    bool any_difference = false;
    for (std::size_t f = 0; f < 3; ++f) {
        CHECK(a[f].test == b[f].test);
        CHECK(count_by_class(y, a[f].test, 4) == count_by_class(y, plain[f].test, 4));
        any_difference = any_difference || a[f].test != c[f].test || a[f].test != plain[f].test;
    }
    CHECK(any_difference);
}

TEST_CASE("stratified_kfold rejects impossible fold counts and negative labels", "[data][split]") {
    feral::Labels y(6);
    y << 0, 0, 1, 1, 2, 2;
    CHECK_THROWS_AS(feral::stratified_kfold(y, 1), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::stratified_kfold(y, 3), Catch::Contains("greater than the number of members"));
    CHECK_THROWS_WITH(feral::stratified_kfold(y, 7), Catch::Contains("7 folds of 6 samples"));
    y[4] = -1;
    CHECK_THROWS_WITH(feral::stratified_kfold(y, 2), Catch::Contains("label -1 at row 4"));
}

TEST_CASE("stratified_split keeps class proportions, exact sizes and is reproducible", "[data][split]") {
    feral::Labels y(1000);
    for (int i = 0; i < 1000; ++i) y[i] = i < 500 ? 0 : (i < 800 ? 1 : (i < 950 ? 2 : 3));
    SECTION("fractions") {
        const auto s = feral::stratified_split(y, {.validation = 0.1, .test = 0.2, .seed = 5});
        CHECK(s.test.size() == 200);
        CHECK(s.validation.size() == 100);
        CHECK(s.train.size() == 700);
        CHECK(count_by_class(y, s.test, 4) == std::vector<feral::Index>{100, 60, 30, 10});
        CHECK(count_by_class(y, s.validation, 4) == std::vector<feral::Index>{50, 30, 15, 5});
        std::set<feral::Index> all(s.train.begin(), s.train.end());
        all.insert(s.validation.begin(), s.validation.end());
        all.insert(s.test.begin(), s.test.end());
        CHECK(all.size() == 1000);
        const auto again = feral::stratified_split(y, {.validation = 0.1, .test = 0.2, .seed = 5});
        CHECK(again.test == s.test);
        CHECK(again.validation == s.validation);
        const auto other = feral::stratified_split(y, {.validation = 0.1, .test = 0.2, .seed = 6});
        CHECK(other.test != s.test);
    }
    SECTION("counts that do not divide evenly are apportioned by largest remainder") {
        const auto s = feral::stratified_split(y, {.test = 7, .seed = 1});
        CHECK(s.test.size() == 7);
        CHECK(s.validation.empty());
        // exact shares 3.5, 2.1, 1.05, 0.35 -> floors 3,2,1,0 then the largest remainder (0.5) gets one
        CHECK(count_by_class(y, s.test, 4) == std::vector<feral::Index>{4, 2, 1, 0});
    }
}

TEST_CASE("stratified_split rejects sizes that leave nothing to train on", "[data][split]") {
    feral::Labels y = feral::Labels::Zero(10);
    CHECK_THROWS_WITH(feral::stratified_split(y, {.validation = 0.5, .test = 0.5}), Catch::Contains("fraction 0.5 is outside") || Catch::Contains("nothing to train"));
    CHECK_THROWS_WITH(feral::stratified_split(y, {.validation = 5, .test = 5}), Catch::Contains("leave nothing to train"));
    CHECK_THROWS_WITH(feral::stratified_split(y, {.test = 11}), Catch::Contains("test size 11 is outside 0..10"));
    CHECK_THROWS_WITH(feral::stratified_split(y, {.test = 1.5}), Catch::Contains("test fraction 1.5"));
    CHECK_THROWS_AS(feral::stratified_split(feral::Labels(), {}), feral::invalid_argument);
}

TEST_CASE("split_dataset carries class names, shape and sources into each part", "[data][split]") {
    feral::Dataset d;
    d.class_names = {"a", "b"};
    d.shape = {1, 2, 2};
    d.pixels.resize(20, 4);
    d.labels.resize(20);
    for (int i = 0; i < 20; ++i) {
        d.pixels.row(i).setConstant(static_cast<std::uint8_t>(i));
        d.labels[i] = i % 2;
        d.sources.push_back("img" + std::to_string(i));
    }
    const auto parts = feral::split_dataset(d, {.validation = 0.2, .test = 0.2, .seed = 3});
    CHECK(parts.train.size() == 12);
    CHECK(parts.validation.size() == 4);
    CHECK(parts.test.size() == 4);
    for (const auto* p : {&parts.train, &parts.validation, &parts.test}) {
        CHECK(p->class_names == d.class_names);
        CHECK(p->shape == d.shape);
        for (feral::Index i = 0; i < p->size(); ++i) {
            const int original = p->pixels(i, 0);
            CHECK(p->sources[static_cast<std::size_t>(i)] == "img" + std::to_string(original));
            CHECK(p->labels[i] == original % 2);
        }
    }
}
