// Tests for feral/data/transforms.hpp, resample.hpp and class_weights.hpp.
#include "feral/core/random.hpp"
#include "feral/data/class_weights.hpp"
#include "feral/data/resample.hpp"
#include "feral/data/transforms.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

namespace {
// n images of 2x2 pixels; class of image i = classes[i]; pixel values encode the row index.
feral::Dataset make_data(const std::vector<int>& classes, std::vector<std::string> names) {
    feral::Dataset d;
    d.class_names = std::move(names);
    d.shape = {1, 2, 2};
    const auto n = static_cast<feral::Index>(classes.size());
    d.pixels.resize(n, 4);
    d.labels.resize(n);
    for (feral::Index i = 0; i < n; ++i) {
        d.pixels.row(i).setConstant(static_cast<std::uint8_t>(i));
        d.labels[i] = classes[static_cast<std::size_t>(i)];
        std::string source = std::to_string(i);
        source.insert(source.begin(), 's');
        d.sources.push_back(std::move(source));
    }
    return d;
}
}  // namespace

TEMPLATE_TEST_CASE("to_float scales 8-bit pixels to [0, 1] or keeps them raw", "[data][transforms]", float, double) {
    feral::PixelMatrix p(2, 3);
    p << 0, 51, 255, 1, 2, 3;
    const auto unit = feral::to_float<TestType>(p);
    CHECK(unit(0, 0) == 0);
    CHECK(unit(0, 1) == Approx(0.2));
    CHECK(unit(0, 2) == Approx(1.0));
    const auto raw = feral::to_float<TestType>(p, feral::PixelScale::raw);
    CHECK(raw(1, 2) == 3);
    CHECK(raw(0, 2) == 255);
}

TEMPLATE_TEST_CASE("GlobalStandardizer uses one mean and one population std over all training values", "[data][transforms]", float, double) {
    feral::Matrix<TestType> train(2, 3);
    train << 1, 2, 3, 4, 5, 6;  // mean 3.5, population variance 35/12
    feral::GlobalStandardizer<TestType> s;
    const auto z = s.fit_transform(train);
    CHECK(s.mean() == Approx(3.5));
    CHECK(s.stddev() == Approx(std::sqrt(35.0 / 12.0)));
    double sum = 0.0, squares = 0.0;
    for (int k = 0; k < 6; ++k) {
        sum += static_cast<double>(z.data()[k]);
        squares += static_cast<double>(z.data()[k]) * static_cast<double>(z.data()[k]);
    }
    CHECK(sum == Approx(0.0).margin(1e-5));
    CHECK(squares / 6 == Approx(1.0));
    feral::Matrix<TestType> test(1, 2);
    test << 3.5, 7;
    const auto zt = s.transform(test);
    CHECK(zt(0, 0) == Approx(0.0).margin(1e-6));
    CHECK(zt(0, 1) == Approx(3.5 / std::sqrt(35.0 / 12.0)));
    CHECK(s.inverse_transform(zt)(0, 1) == Approx(7));

    const auto path = feral::test::scratch_dir("global_standardizer") / "s.feral";
    s.save(path);
    const auto loaded = feral::GlobalStandardizer<TestType>::load(path);
    CHECK(loaded.transform(test) == zt);

    feral::GlobalStandardizer<TestType> fresh;
    CHECK_THROWS_AS(fresh.transform(test), feral::not_fitted);
    feral::Matrix<TestType> constant = feral::Matrix<TestType>::Constant(2, 2, 5);
    CHECK(fresh.fit(constant).stddev() == 1.0);
    constant(1, 0) = std::numeric_limits<TestType>::quiet_NaN();
    CHECK_THROWS_WITH(fresh.fit(constant), Catch::Contains("row 1, column 0"));
    CHECK_THROWS_AS(fresh.fit(feral::Matrix<TestType>(0, 3)), feral::invalid_argument);
}

TEST_CASE("GlobalStandardizer's statistics match a long-double two-pass reference for any thread count", "[data][transforms]") {
    // 300 x 257 values around 1000 (spread about 1): one pass of sum and sum of squares in
    // float would lose most digits of the variance; the combined column moments must not.
    feral::Random rng(7);
    feral::Matrix<float> X(300, 257);
    for (feral::Index i = 0; i < X.rows(); ++i)
        for (feral::Index j = 0; j < X.cols(); ++j)
            X(i, j) = 1000.0f + static_cast<float>(j % 5) * 0.25f + static_cast<float>(rng.normal());
    long double sum = 0;
    for (feral::Index k = 0; k < X.size(); ++k) sum += X.data()[k];
    const long double mean = sum / static_cast<long double>(X.size());
    long double squares = 0;
    for (feral::Index k = 0; k < X.size(); ++k) squares += (X.data()[k] - mean) * (X.data()[k] - mean);
    const double deviation = static_cast<double>(std::sqrt(squares / static_cast<long double>(X.size())));

    feral::GlobalStandardizer<float> one({.n_threads = 1}), two({.n_threads = 2});
    one.fit(X);
    two.fit(X);
    CHECK(one.mean() == Approx(static_cast<double>(mean)).epsilon(1e-14));
    CHECK(one.stddev() == Approx(deviation).epsilon(1e-12));
    CHECK(one.mean() == two.mean());  // fixed row parts: bit-identical
    CHECK(one.stddev() == two.stddev());
    CHECK_THROWS_AS(feral::GlobalStandardizer<float>({.n_threads = -1}).fit(X), feral::invalid_argument);
}

TEST_CASE("feature_mean_std and standardize_features work column by column", "[data][transforms]") {
    feral::Matrix<double> X(3, 2);
    X << 1, 7, 2, 7, 3, 7;
    const auto stats = feral::feature_mean_std<double>(X);
    CHECK(stats.mean[0] == Approx(2.0));
    CHECK(stats.scale[0] == Approx(std::sqrt(2.0 / 3.0)));
    CHECK(stats.scale[1] == 1.0);  // constant column: only centred
    const auto Z = feral::standardize_features<double>(X, stats);
    CHECK(Z(2, 0) == Approx(1.0 / std::sqrt(2.0 / 3.0)));
    CHECK(Z(0, 1) == 0.0);
    CHECK_THROWS_WITH(feral::standardize_features<double>(feral::Matrix<double>(1, 3), stats), Catch::Contains("3 features"));
}

TEST_CASE("flatten and image_at convert between images and rows", "[data][transforms]") {
    std::vector<feral::Image<>> images{feral::Image<>(2, 3, 1, 7), feral::Image<>(2, 3, 1, 9)};
    images[1](1, 2) = 42;
    const auto rows = feral::flatten(images);
    CHECK(rows.rows() == 2);
    CHECK(rows(1, 5) == 42);
    feral::Dataset d;
    d.pixels = rows;
    d.labels = feral::Labels::Zero(2);
    d.class_names = {"x"};
    d.shape = {1, 2, 3};
    CHECK(feral::image_at(d, 1) == images[1]);
    CHECK_THROWS_AS(feral::image_at(d, 2), feral::invalid_argument);
    images.emplace_back(3, 2);
    CHECK_THROWS_WITH(feral::flatten(images), Catch::Contains("image 2 is 3 x 2"));
}

TEST_CASE("balance_classes under- and over-samples to exactly n per class, reproducibly", "[data][resample]") {
    std::vector<int> classes;
    for (int i = 0; i < 20; ++i) classes.push_back(i < 12 ? 0 : (i < 17 ? 1 : 2));  // 12, 5, 3
    const auto d = make_data(classes, {"a", "b", "c"});
    const auto b = feral::balance_classes(d, 5, 9);
    CHECK(b.class_counts() == std::vector<feral::Index>{5, 5, 5});
    CHECK(b.class_names == d.class_names);
    for (feral::Index i = 0; i < b.size(); ++i) CHECK(b.labels[i] == d.labels[b.pixels(i, 0)]);  // labels follow images
    std::set<int> class0;
    for (feral::Index i = 0; i < 5; ++i) class0.insert(b.pixels(i, 0));
    CHECK(class0.size() == 5);  // under-sampling draws without replacement
    std::set<int> class2;
    for (feral::Index i = 10; i < 15; ++i) class2.insert(b.pixels(i, 0));
    CHECK(class2 == std::set<int>{17, 18, 19});  // over-sampling keeps every image
    CHECK(feral::balance_classes(d, 5, 9).pixels == b.pixels);
    CHECK(feral::balance_classes(d, 5, 10).pixels != b.pixels);
    CHECK_THROWS_AS(feral::balance_classes(d, 0), feral::invalid_argument);
    const auto empty_class = make_data({0, 0, 1}, {"a", "b", "c"});
    CHECK_THROWS_WITH(feral::balance_classes(empty_class, 2), Catch::Contains("class 'c' has no images"));
}

TEST_CASE("first_n_per_class keeps the first n images of each class in data order", "[data][resample]") {
    const auto d = make_data({1, 0, 1, 1, 0, 2, 1}, {"a", "b", "c"});
    const auto f = feral::first_n_per_class(d, 2);
    CHECK(f.class_counts() == std::vector<feral::Index>{2, 2, 1});
    std::vector<int> rows;
    for (feral::Index i = 0; i < f.size(); ++i) rows.push_back(f.pixels(i, 0));
    CHECK(rows == std::vector<int>{0, 1, 2, 4, 5});
    CHECK(f.sources[3] == "s4");
}

TEST_CASE("drop_class removes a class and renumbers the rest contiguously", "[data][resample]") {
    auto d = make_data({0, 1, 2, 3, 4, 5, 6, 1, 6}, feral::fer2013_class_names());
    const auto six = feral::drop_class(d, "disgust");
    CHECK(six.class_names == std::vector<std::string>{"angry", "fear", "happy", "sad", "surprise", "neutral"});
    CHECK(six.size() == 7);
    CHECK(six.labels == (feral::Labels(7) << 0, 1, 2, 3, 4, 5, 5).finished());
    CHECK(six.pixels(1, 0) == 2);
    six.validate();
    const auto two = feral::keep_classes(d, {"neutral", "angry"});
    CHECK(two.class_names == std::vector<std::string>{"angry", "neutral"});
    CHECK(two.labels == (feral::Labels(3) << 0, 1, 1).finished());
    CHECK_THROWS_WITH(feral::drop_class(d, "contempt"), Catch::Contains("no class 'contempt'"));
    CHECK_THROWS_WITH(feral::keep_classes(d, {"sad", "sad"}), Catch::Contains("named twice"));
}

TEST_CASE("balanced_class_weights equals scikit-learn's compute_class_weight('balanced')", "[data][class_weights]") {
    const feral::test::Fixture fx(feral::test::fixture("data/class_weight.txt"));
    const auto counts = fx.labels("counts");
    std::vector<int> classes;
    for (int c = 0; c < counts.size(); ++c) classes.insert(classes.end(), static_cast<std::size_t>(counts[c]), c);
    const feral::Labels y = Eigen::Map<const feral::Labels>(classes.data(), static_cast<feral::Index>(classes.size()));
    const auto w = feral::balanced_class_weights(y, 7);
    const auto expected = fx.matrix("weights");
    for (int c = 0; c < 7; ++c) CHECK(w[static_cast<std::size_t>(c)] == Approx(expected(c, 0)).epsilon(1e-14));
    const auto per_sample = feral::sample_weights(y, w);
    double total = 0.0;
    for (feral::Index i = 0; i < per_sample.size(); ++i) total += per_sample[i];
    CHECK(total == Approx(static_cast<double>(y.size())));
    CHECK_THROWS_WITH(feral::balanced_class_weights(y, 8), Catch::Contains("class 7 has no samples"));
    CHECK_THROWS_WITH(feral::balanced_class_weights(y, 6), Catch::Contains("label 6 at row"));
    CHECK_THROWS_AS(feral::sample_weights(y, {1.0}), feral::invalid_argument);
}
