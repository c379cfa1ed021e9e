// SVC against scikit-learn 1.2 / libsvm fixtures (tools/fixtures/make_sklearn_fixtures_trees_svm.py).
#include "feral/models/svc.hpp"

#include "fer2013_subset.hpp"
#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <vector>

using feral::Gamma;
using feral::Index;
using feral::Kernel;
using feral::SVC;

namespace {
// Kernels are float32 here and double in libsvm; both stop at a KKT violation < tol = 1e-3,
// so coefficients and decision values agree to about that tolerance.
constexpr double kTol = 2e-3;

double max_abs(const Eigen::MatrixXd& m) {  // (a loop: Eigen's AVX-512 reductions trip GCC 12 bug 105593)
    double v = 0.0;
    for (Index i = 0; i < m.size(); ++i) v = std::max(v, std::abs(m.data()[i]));
    return v;
}

void check_matrix(const Eigen::MatrixXd& got, const Eigen::MatrixXd& expected, double tol, const char* what) {
    REQUIRE(got.rows() == expected.rows());
    REQUIRE(got.cols() == expected.cols());
    const Eigen::MatrixXd difference = got - expected;
    INFO(what << " max |difference| " << max_abs(difference));
    CHECK(max_abs(difference) <= tol * std::max(1.0, max_abs(expected)));
}

void check_against(SVC<>& svm, const feral::test::Fixture& fx, bool multiclass) {
    const auto X = fx.as<float>("X");
    svm.fit(X, fx.labels("y"));
    const auto support = fx.labels("support");
    REQUIRE(static_cast<Index>(svm.support().size()) == support.size());
    for (Index s = 0; s < support.size(); ++s) CHECK(svm.support()[static_cast<std::size_t>(s)] == support[s]);
    const auto n_support = fx.labels("n_support");
    for (Index c = 0; c < n_support.size(); ++c) CHECK(svm.n_support()[static_cast<std::size_t>(c)] == n_support[c]);
    check_matrix(svm.dual_coef(), fx.matrix("dual_coef"), kTol, "dual_coef");
    check_matrix(svm.intercept(), fx.matrix("intercept"), kTol, "intercept");
    const auto Xt = fx.as<float>("X_test");
    if (multiclass) {
        check_matrix(svm.decision_function_ovo(Xt), fx.matrix("decision_ovo"), kTol, "ovo decision");
        check_matrix(svm.decision_function(Xt), fx.matrix("decision_ovr"), kTol, "ovr decision");
    } else {
        check_matrix(svm.decision_function(Xt), fx.matrix("decision"), kTol, "decision");
    }
    CHECK((svm.predict(Xt).array() == fx.labels("predict").array()).all());
    CHECK(svm.support_vectors().row(0) == X.row(svm.support()[0]));
}
}  // namespace

TEST_CASE("SVC with a linear kernel matches libsvm's support vectors, coefficients and decisions", "[svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_linear.txt"));
    SVC<> svm({.kernel = Kernel::linear, .C = 0.5});
    check_against(svm, fx, true);
}

TEST_CASE("SVC with an RBF kernel and gamma 'scale' matches libsvm", "[svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_rbf.txt"));
    SVC<> svm({.kernel = Kernel::rbf, .C = 2.0});
    check_against(svm, fx, true);
    CHECK(svm.gamma() == Approx(fx.scalar("gamma")).epsilon(1e-6));
}

TEST_CASE("SVC with a polynomial kernel matches libsvm", "[svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_poly.txt"));
    SVC<> svm({.kernel = Kernel::poly, .C = 1.0, .degree = 3, .coef0 = 1.0});
    check_against(svm, fx, true);
}

TEST_CASE("SVC with balanced class weights on unbalanced classes matches libsvm", "[svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_rbf_balanced.txt"));
    SVC<> svm({.kernel = Kernel::rbf, .C = 1.0, .gamma = Gamma::value(0.3), .class_weight = feral::ClassWeight::balanced()});
    check_against(svm, fx, true);
}

TEST_CASE("Binary SVC uses scikit-learn's signs (positive decision = second class)", "[svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_binary.txt"));
    SVC<> svm;
    check_against(svm, fx, false);
}

TEST_CASE("SVC gives the same model with a tiny kernel cache, without shrinking, and on any thread count", "[svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_rbf.txt"));
    const auto X = fx.as<float>("X");
    const auto y = fx.labels("y");
    SVC<> reference({.C = 2.0, .n_threads = 1});
    reference.fit(X, y);
    // 1 KB holds only a few kernel rows: the LRU path instead of the precomputed matrix, its
    // buffer handed from one class pair to the next with the last pair's rows still in it.
    SVC<> small_cache({.C = 2.0, .cache_size = 1.0 / 1024.0, .n_threads = 1});
    small_cache.fit(X, y);
    CHECK(small_cache.support() == reference.support());
    CHECK(small_cache.dual_coef() == reference.dual_coef());
    CHECK(small_cache.intercept() == reference.intercept());
    for (auto* model : {&reference, &small_cache}) {  // pairs solved in parallel: bit-identical results
        auto config = model->config();
        config.n_threads = 2;
        SVC<> threaded(config);
        threaded.fit(X, y);
        CHECK(threaded.dual_coef() == model->dual_coef());
        CHECK(threaded.intercept() == model->intercept());
    }
    SVC<> no_shrinking({.C = 2.0, .shrinking = false});
    no_shrinking.fit(X, y);
    check_matrix(no_shrinking.dual_coef(), reference.dual_coef(), kTol, "dual_coef without shrinking");
}

TEST_CASE("SVC rejects bad parameters and input, and round-trips through save/load", "[svc]") {
    feral::test::Fixture fx(feral::test::fixture("models/svc_poly.txt"));
    const auto X = fx.as<float>("X");
    const auto y = fx.labels("y");
    using E = feral::invalid_argument;
    CHECK_THROWS_AS(SVC<>().predict(X), feral::not_fitted);
    CHECK_THROWS_WITH(SVC<>({.C = -1.0}).fit(X, y), Catch::Contains("C = -1"));
    CHECK_THROWS_AS(SVC<>({.gamma = Gamma::value(0.0)}).fit(X, y), E);
    CHECK_THROWS_AS(SVC<>({.tol = 0.0}).fit(X, y), E);
    CHECK_THROWS_AS(SVC<>({.kernel = Kernel::poly, .degree = -1}).fit(X, y), E);
    CHECK_THROWS_AS(SVC<>().fit(X, feral::Labels::Constant(X.rows(), 4)), E);
    CHECK_THROWS_AS(SVC<>().fit(X.topRows(10), y), E);
    feral::Matrix<float> bad = X;
    bad(5, 2) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(SVC<>().fit(bad, y), Catch::Contains("row 5"));

    SVC<> svm({.kernel = Kernel::poly, .coef0 = 1.0});
    svm.fit(X, y);
    CHECK_THROWS_AS(svm.decision_function(X.leftCols(3)), E);
    feral::Labels unseen = y;
    unseen[0] = 2;
    CHECK_THROWS_WITH(svm.score(X, unseen), Catch::Contains("label 2"));
    const auto dir = feral::test::scratch_dir("svc_save");
    svm.save(dir / "svc.feral");
    const auto loaded = SVC<>::load(dir / "svc.feral");
    CHECK(loaded.decision_function_ovo(X) == svm.decision_function_ovo(X));
    CHECK(loaded.config().kernel == Kernel::poly);
    CHECK_THROWS_AS(SVC<double>::load(dir / "svc.feral"), feral::format_error);
}

TEST_CASE("On a FER2013 subset an RBF SVC matches scikit-learn's accuracy and support", "[svc][fer2013]") {
    auto root = feral::test::fer2013_root("SVC FER2013 subset");
    if (!root) return;
    feral::test::Fixture fx(feral::test::fixture("models/forest_svc_fer2013.txt"));
    auto [Xtr, ytr] = feral::test::load_fer2013_subset(*root, "train", static_cast<Index>(fx.scalar("n_train")));
    auto [Xte, yte] = feral::test::load_fer2013_subset(*root, "test", static_cast<Index>(fx.scalar("n_test")));
    Xtr /= 255.0f;  // pixels / 255, as the fixture script
    Xte /= 255.0f;
    SVC<> svm;  // RBF, gamma 'scale', C 1: deterministic, so the 1-point bar applies directly
    svm.fit(Xtr, ytr);
    const double accuracy = svm.score(Xte, yte);
    INFO("feral " << accuracy << ", scikit-learn " << fx.scalar("svc_rbf_accuracy"));
    CHECK(std::abs(accuracy - fx.scalar("svc_rbf_accuracy")) <= 0.01);
    const auto n_support = fx.labels("svc_rbf_n_support");
    for (Index c = 0; c < 7; ++c) CHECK(std::abs(static_cast<int>(svm.n_support()[static_cast<std::size_t>(c)]) - n_support[c]) <= 2);
}
