// GaussianNB against scikit-learn 1.2 (fixtures from
// tools/fixtures/make_sklearn_fixtures_nb_pca_metrics.py), its error contract, and a
// real-data check on a fixed FER2013 subset.
#include "feral/models/gaussian_nb.hpp"

#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"
#include "feral/data/dataset.hpp"
#include "feral/data/image_io.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

namespace {

using feral::test::Fixture;
using feral::test::fixture;

template <class T>
double max_abs_difference(const feral::Matrix<T>& a, const Eigen::MatrixXd& b) {
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.cols() == b.cols());
    return (a.template cast<double>() - b).cwiseAbs().maxCoeff();
}

feral::Labels labels_of(const Eigen::MatrixXd& m) {
    feral::Labels out(m.size());
    for (Eigen::Index i = 0; i < m.size(); ++i) out[i] = static_cast<int>(m(i));
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("GaussianNB learns scikit-learn's means, variances and probabilities", "[models][gaussian_nb]", float,
                   double) {
    using T = TestType;
    const Fixture f(fixture("models/gaussian_nb_small.txt"));
    const feral::Matrix<T> X = f.as<T>("X"), X_test = f.as<T>("X_test");
    feral::GaussianNB<T> nb;
    REQUIRE(&nb.fit(X, f.labels("y")) == &nb);
    // Float data: statistics are accumulated in double, so only the final rounding to
    // float differs; probabilities pass through float matrix products.
    const double tight = std::is_same_v<T, double> ? 1e-12 : 1e-5;
    const double proba_tolerance = std::is_same_v<T, double> ? 1e-10 : 1e-4;

    CHECK(nb.classes() == std::vector<int>{1, 3, 5});
    CHECK(max_abs_difference<T>(nb.theta(), f.matrix("theta")) < tight * 10);
    // Relative check for the variances (the constant feature's is epsilon, ~1e-9).
    const Eigen::MatrixXd var = f.matrix("var");
    CHECK(((nb.var().template cast<double>() - var).array() / var.array()).abs().maxCoeff() < tight * 10);
    CHECK(max_abs_difference<double>(nb.class_prior().transpose(), f.matrix("class_prior").transpose()) < 1e-15);
    CHECK(max_abs_difference<double>(nb.class_count().transpose(), f.matrix("class_count").transpose()) == 0);
    CHECK(nb.epsilon() == Approx(f.scalar("epsilon")).epsilon(tight));  // float: X itself is rounded

    CHECK(max_abs_difference<T>(nb.predict_proba(X_test), f.matrix("proba")) < proba_tolerance);
    CHECK(max_abs_difference<T>(nb.predict_log_proba(X_test), f.matrix("log_proba")) < proba_tolerance * 100);
    CHECK(nb.predict(X_test) == labels_of(f.matrix("predict")));
    CHECK(nb.score(X_test, labels_of(f.matrix("predict"))) == 1.0);
}

TEST_CASE("GaussianNB honours given priors and var_smoothing as scikit-learn does", "[models][gaussian_nb]") {
    const Fixture f(fixture("models/gaussian_nb_priors.txt"));
    feral::GaussianNB<double> nb({.var_smoothing = f.scalar("var_smoothing"), .priors = {0.2, 0.5, 0.3}});
    nb.fit(f.as<double>("X"), f.labels("y"));
    CHECK(nb.epsilon() == Approx(f.scalar("epsilon")).epsilon(1e-12));
    CHECK(max_abs_difference<double>(nb.var(), f.matrix("var")) < 1e-11);
    CHECK(nb.class_prior()[1] == 0.5);
    CHECK(max_abs_difference<double>(nb.predict_proba(f.as<double>("X_test")), f.matrix("proba")) < 1e-10);
    CHECK(nb.predict(f.as<double>("X_test")) == labels_of(f.matrix("predict")));
}

TEMPLATE_TEST_CASE("GaussianNB probabilities stay exact when every likelihood underflows", "[models][gaussian_nb]", float,
                   double) {
    using T = TestType;
    const Fixture f(fixture("models/gaussian_nb_wide.txt"));
    const feral::Matrix<T> X_test = f.as<T>("X_test");
    feral::GaussianNB<T> nb;
    nb.fit(f.as<T>("X"), f.labels("y"));
    const Eigen::MatrixXd jll = f.matrix("jll");
    REQUIRE(jll.maxCoeff() < -745);  // exp() of every joint log-likelihood is 0 in double
    const double scale = std::is_same_v<T, double> ? 1e-12 : 2e-5;
    const auto expected_log = f.matrix("log_proba");
    CHECK(max_abs_difference<T>(nb.predict_joint_log_proba(X_test), jll) < scale * jll.cwiseAbs().maxCoeff());
    CHECK(max_abs_difference<T>(nb.predict_log_proba(X_test), expected_log) < scale * jll.cwiseAbs().maxCoeff());
    const feral::Matrix<T> proba = nb.predict_proba(X_test);
    CHECK(proba.allFinite());
    CHECK((proba.rowwise().sum().array() - T(1)).abs().maxCoeff() < T(std::is_same_v<T, double> ? 1e-12 : 1e-4));
    CHECK(max_abs_difference<T>(proba, f.matrix("proba")) < (std::is_same_v<T, double> ? 1e-9 : 2e-2));
    CHECK(nb.predict(X_test) == labels_of(f.matrix("predict")));
}

TEST_CASE("GaussianNB gives identical results for every thread count", "[models][gaussian_nb]") {
    feral::Random random(3);
    const feral::Index n = 1100, d = 150;  // several row blocks and feature blocks
    feral::Matrix<float> X(n, d);
    feral::Labels y(n);
    for (feral::Index i = 0; i < n; ++i) {
        y[i] = static_cast<int>(random.below(4));
        for (feral::Index j = 0; j < d; ++j) X(i, j) = static_cast<float>(random.normal() + 0.3 * y[i] * ((j % 3) - 1));
    }
    feral::GaussianNB<float> one({.n_threads = 1}), three({.n_threads = 3});
    one.fit(X, y);
    three.fit(X, y);
    CHECK(one.theta() == three.theta());
    CHECK(one.var() == three.var());
    CHECK(one.predict_log_proba(X) == three.predict_log_proba(X));
    CHECK(one.predict(X) == three.predict(X));
    CHECK(one.score(X, y) > 0.9);
}

TEST_CASE("GaussianNB saves and loads, and refuses files of other models", "[models][gaussian_nb]") {
    const Fixture f(fixture("models/gaussian_nb_small.txt"));
    const auto dir = feral::test::scratch_dir("gaussian_nb_save");
    feral::GaussianNB<float> nb({.var_smoothing = 1e-6, .priors = {}, .n_threads = 2});
    CHECK_THROWS_AS(nb.save(dir / "unfitted.feral"), feral::not_fitted);
    nb.fit(f.as<float>("X"), f.labels("y"));
    nb.save(dir / "nb.feral");
    CHECK_THROWS_AS(nb.save(dir / "nb.feral"), feral::io_error);
    nb.save(dir / "nb.feral", feral::Overwrite::yes);

    const auto loaded = feral::GaussianNB<float>::load(dir / "nb.feral");
    CHECK(loaded.config().var_smoothing == 1e-6);
    CHECK(loaded.config().n_threads == 2);
    CHECK(loaded.classes() == nb.classes());
    CHECK(loaded.theta() == nb.theta());
    const feral::Matrix<float> X_test = f.as<float>("X_test");
    CHECK(loaded.predict_proba(X_test) == nb.predict_proba(X_test));

    CHECK_THROWS_AS(feral::GaussianNB<double>::load(dir / "nb.feral"), feral::format_error);
    CHECK_THROWS_WITH(feral::GaussianNB<double>::load(dir / "nb.feral"), Catch::Contains("GaussianNB<float>"));
    feral::ByteWriter other;
    other.write(1.0);
    feral::write_container(dir / "other.feral", "StandardScaler<float>", 1, other.bytes());
    CHECK_THROWS_AS(feral::GaussianNB<float>::load(dir / "other.feral"), feral::format_error);
}

TEST_CASE("GaussianNB rejects bad input with messages that name the problem", "[models][gaussian_nb]") {
    feral::Matrix<float> X(4, 2);
    X << 0, 1, 1, 0, 2, 2, 3, 1;
    const feral::Labels y = (feral::Labels(4) << 0, 0, 1, 1).finished();
    feral::GaussianNB<float> nb;

    CHECK_THROWS_AS(nb.predict(X), feral::not_fitted);
    CHECK_THROWS_AS(nb.theta(), feral::not_fitted);
    CHECK_THROWS_WITH(nb.predict_proba(X), Catch::Contains("not fitted"));

    feral::Matrix<float> with_nan = X;
    with_nan(2, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(nb.fit(with_nan, y), Catch::Contains("GaussianNB::fit") && Catch::Contains("row 2"));
    feral::Matrix<float> with_inf = X;
    with_inf(0, 0) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(nb.fit(with_inf, y), feral::invalid_argument);
    CHECK_THROWS_WITH(nb.fit(X, y.head(3)), Catch::Contains("4 samples but y has 3"));
    CHECK_THROWS_AS(nb.fit(feral::Matrix<float>(0, 2), feral::Labels(0)), feral::invalid_argument);
    CHECK_THROWS_WITH(nb.fit(X, feral::Labels::Constant(4, 2)), Catch::Contains("1 distinct class"));
    CHECK_THROWS_WITH(feral::GaussianNB<float>({.var_smoothing = -1}).fit(X, y), Catch::Contains("var_smoothing"));
    CHECK_THROWS_WITH(feral::GaussianNB<float>({.priors = {0.5, 0.2}}).fit(X, y), Catch::Contains("sum to 0.7"));
    CHECK_THROWS_WITH(feral::GaussianNB<float>({.priors = {1.0}}).fit(X, y), Catch::Contains("1 priors given for 2 classes"));
    CHECK_THROWS_WITH(feral::GaussianNB<float>({.priors = {1.5, -0.5}}).fit(X, y), Catch::Contains("prior 1"));

    nb.fit(X, y);
    CHECK_THROWS_WITH(nb.predict(feral::Matrix<float>::Zero(2, 3)), Catch::Contains("X has 3 features, but the model was fitted with 2"));
    CHECK_THROWS_AS(nb.predict(with_nan), feral::invalid_argument);
    CHECK_THROWS_AS(nb.predict(feral::Matrix<float>(0, 2)), feral::invalid_argument);
    CHECK_THROWS_WITH(nb.score(X, (feral::Labels(4) << 0, 1, 7, 1).finished()), Catch::Contains("label 7"));
    // A constant feature does not divide by zero: epsilon keeps the variance positive.
    feral::Matrix<float> constant = X;
    constant.col(1).setConstant(5);
    CHECK(nb.fit(constant, y).predict_proba(constant).allFinite());
}

namespace {

/// The first `per_class` PNG files (sorted names) of each class folder of `split`,
/// classes in FER2013's label order — the subset the fixture script used.
feral::Matrix<float> load_fer_subset(const std::filesystem::path& root, const std::string& split, std::size_t per_class,
                                     feral::Labels& labels) {
    const auto& names = feral::fer2013_class_names();
    std::vector<std::vector<std::uint8_t>> images;
    std::vector<int> y;
    for (std::size_t label = 0; label < names.size(); ++label) {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(root / split / names[label]))
            if (entry.path().extension() == ".png") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        files.resize(std::min(files.size(), per_class));
        for (const auto& file : files) {
            auto image = feral::read_image(file, feral::ColorMode::gray);
            REQUIRE(image.size() == 48 * 48);
            images.push_back(image.pixels());
            y.push_back(static_cast<int>(label));
        }
    }
    feral::Matrix<float> X(static_cast<feral::Index>(images.size()), 48 * 48);
    for (std::size_t i = 0; i < images.size(); ++i)
        for (feral::Index j = 0; j < X.cols(); ++j) X(static_cast<feral::Index>(i), j) = images[i][static_cast<std::size_t>(j)];
    labels = Eigen::Map<const feral::Labels>(y.data(), static_cast<feral::Index>(y.size()));
    return X;
}

}  // namespace


TEST_CASE("GaussianNB on a FER2013 subset is within 1 point of scikit-learn's accuracy", "[models][gaussian_nb][fer2013]") {
    auto root = feral::test::fer2013_root("GaussianNB FER2013 accuracy");
    if (!root) return;
    const Fixture f(fixture("models/gaussian_nb_fer2013.txt"));
    feral::Labels y_train, y_test;
    feral::Matrix<float> X_train = load_fer_subset(*root, "train", static_cast<std::size_t>(f.scalar("train_per_class")), y_train);
    feral::Matrix<float> X_test = load_fer_subset(*root, "test", static_cast<std::size_t>(f.scalar("test_per_class")), y_test);
    REQUIRE(X_train.rows() == static_cast<feral::Index>(f.scalar("n_train")));
    REQUIRE(X_test.rows() == static_cast<feral::Index>(f.scalar("n_test")));
    // Global standardisation with the training pixels' mean and standard deviation.
    const double mean = X_train.cast<double>().mean();
    const double stddev = std::sqrt((X_train.cast<double>().array() - mean).square().mean());
    X_train = ((X_train.array() - static_cast<float>(mean)) / static_cast<float>(stddev)).matrix();
    X_test = ((X_test.array() - static_cast<float>(mean)) / static_cast<float>(stddev)).matrix();

    feral::GaussianNB<float> nb;
    const double accuracy = nb.fit(X_train, y_train).score(X_test, y_test);
    INFO("feral " << accuracy << ", scikit-learn " << f.scalar("accuracy"));
    std::cout << "GaussianNB on FER2013 subset: feral " << accuracy << ", scikit-learn " << f.scalar("accuracy") << "\n";
    CHECK(std::abs(accuracy - f.scalar("accuracy")) <= 0.01);
}
