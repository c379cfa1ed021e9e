// PCA against scikit-learn 1.2 (fixtures from
// tools/fixtures/make_sklearn_fixtures_nb_pca_metrics.py): exact and randomized solvers,
// whitening, more features than samples, and the error contract.
#include "feral/features/pca.hpp"

#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <string>

namespace {

template <class A>
double max_abs_difference(const A& a, const Eigen::MatrixXd& b) {
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.cols() == b.cols());
    return (a.template cast<double>() - b).cwiseAbs().maxCoeff();
}

/// Compares a fitted PCA with the fixture's attributes. `tolerance` is relative to the
/// largest value of each attribute.
template <class T>
void check_against(const feral::PCA<T>& pca, const feral::test::Fixture& f, double tolerance) {
    const auto ev = f.matrix("explained_variance");
    CHECK(pca.n_components() == ev.rows());
    CHECK(max_abs_difference(pca.mean().transpose(), f.matrix("mean")) < tolerance * f.matrix("mean").cwiseAbs().maxCoeff());
    CHECK(max_abs_difference(pca.explained_variance(), ev) < tolerance * ev(0));
    CHECK(max_abs_difference(pca.explained_variance_ratio(), f.matrix("explained_variance_ratio")) < tolerance);
    CHECK(max_abs_difference(pca.singular_values(), f.matrix("singular_values")) < tolerance * f.matrix("singular_values")(0));
    CHECK(pca.noise_variance() == Approx(f.scalar("noise_variance")).margin(tolerance * ev(0)));
    // Same signs as scikit-learn's svd_flip: compare directly, not up to sign.
    CHECK(max_abs_difference(pca.components(), f.matrix("components")) < tolerance * 100);
}

}  // namespace

TEMPLATE_TEST_CASE("PCA's exact solver matches scikit-learn's full SVD", "[features][pca]", float, double) {
    using T = TestType;
    const double tolerance = std::is_same_v<T, double> ? 1e-10 : 1e-4;
    for (const std::string tag : {"full", "full_whiten", "all"}) {
        DYNAMIC_SECTION(tag) {
            const feral::test::Fixture f(feral::test::fixture("features/pca_" + tag + ".txt"));
            const auto k = static_cast<feral::Index>(f.scalar("n_components"));
            feral::PCA<T> pca({.n_components = tag == "all" ? 0 : k, .whiten = tag == "full_whiten"});
            REQUIRE(&pca.fit(f.as<T>("X")) == &pca);
            CHECK(pca.solver_used() == feral::SvdSolver::full);  // max(shape) <= 500
            check_against(pca, f, tolerance);
            const feral::Matrix<T> Z = pca.transform(f.as<T>("X_test"));
            CHECK(max_abs_difference(Z, f.matrix("transform")) < tolerance * 100);
            CHECK(max_abs_difference(pca.inverse_transform(f.as<T>("transform")), f.matrix("inverse")) < tolerance * 100);
        }
    }
}

TEMPLATE_TEST_CASE("PCA with more features than samples works on the samples' Gram matrix", "[features][pca]", float,
                   double) {
    using T = TestType;
    const feral::test::Fixture f(feral::test::fixture("features/pca_wide.txt"));
    feral::PCA<T> pca({.n_components = 6, .svd_solver = feral::SvdSolver::full});
    pca.fit(f.as<T>("X"));
    check_against(pca, f, std::is_same_v<T, double> ? 1e-10 : 1e-4);
    CHECK(max_abs_difference(pca.transform(f.as<T>("X")), f.matrix("transform")) < (std::is_same_v<T, double> ? 1e-9 : 1e-3));
    // Orthonormal components.
    const feral::Matrix<T> gram = pca.components() * pca.components().transpose();
    CHECK((gram - feral::Matrix<T>::Identity(6, 6)).cwiseAbs().maxCoeff() < T(1e-4));
}

TEMPLATE_TEST_CASE("PCA's randomized solver finds scikit-learn's components", "[features][pca]", float, double) {
    using T = TestType;
    const feral::test::Fixture f(feral::test::fixture("features/pca_randomized.txt"));
    feral::PCA<T> pca({.n_components = 5});
    pca.fit(f.as<T>("X"));
    CHECK(pca.solver_used() == feral::SvdSolver::randomized);  // 'auto' on 600 x 40
    // Well separated spectrum: both randomized answers agree with the exact one to
    // rounding after the power iterations.
    check_against(pca, f, std::is_same_v<T, double> ? 1e-8 : 1e-4);
    // Another seed gives the same subspace.
    feral::PCA<T> other({.n_components = 5, .random_state = 99});
    other.fit(f.as<T>("X"));
    CHECK((other.components() - pca.components()).cwiseAbs().maxCoeff() < T(1e-3));
}

TEST_CASE("PCA with n_samples >> n_features is independent of the thread count", "[features][pca]") {
    feral::Random random(11);
    const feral::Index n = 1500, d = 300;
    feral::Matrix<float> X(n, d);
    for (feral::Index i = 0; i < n; ++i)
        for (feral::Index j = 0; j < d; ++j) X(i, j) = static_cast<float>(random.normal() * (1.0 + 3.0 / (1 + j)));
    for (const auto solver : {feral::SvdSolver::full, feral::SvdSolver::randomized}) {
        feral::PCA<float> one({.n_components = 20, .svd_solver = solver, .n_threads = 1});
        feral::PCA<float> three({.n_components = 20, .svd_solver = solver, .n_threads = 3});
        one.fit(X);
        three.fit(X);
        CHECK(one.components() == three.components());
        CHECK(one.explained_variance() == three.explained_variance());
        CHECK(one.transform(X) == three.transform(X));
        // The projections have the explained variances as their variances.
        const feral::Matrix<float> Z = one.transform(X);
        const Eigen::RowVectorXd var = Z.cast<double>().array().square().colwise().sum() / static_cast<double>(n - 1);
        CHECK((var.transpose() - one.explained_variance().cast<double>()).cwiseAbs().maxCoeff() <
              1e-3 * one.explained_variance()[0]);
    }
}

TEST_CASE("PCA saves, loads and rejects bad input", "[features][pca]") {
    const feral::test::Fixture f(feral::test::fixture("features/pca_full.txt"));
    const feral::Matrix<double> X = f.as<double>("X");
    feral::PCA<double> pca({.n_components = 3, .whiten = true});
    CHECK_THROWS_AS(pca.transform(X), feral::not_fitted);
    CHECK_THROWS_AS(pca.components(), feral::not_fitted);
    pca.fit(X);

    const auto dir = feral::test::scratch_dir("pca_save");
    pca.save(dir / "pca.feral");
    const auto loaded = feral::PCA<double>::load(dir / "pca.feral");
    CHECK(loaded.config().whiten);
    CHECK(loaded.transform(X) == pca.transform(X));
    CHECK(loaded.inverse_transform(pca.transform(X)) == pca.inverse_transform(pca.transform(X)));
    CHECK_THROWS_AS(feral::PCA<float>::load(dir / "pca.feral"), feral::format_error);
    feral::ByteWriter w;
    w.write(2.0);
    feral::write_container(dir / "scaler.feral", "StandardScaler<double>", 1, w.bytes());
    CHECK_THROWS_WITH(feral::PCA<double>::load(dir / "scaler.feral"), Catch::Contains("StandardScaler<double>"));

    CHECK_THROWS_WITH(feral::PCA<double>({.n_components = 11}).fit(X), Catch::Contains("n_components=11") && Catch::Contains("10"));
    CHECK_THROWS_AS(feral::PCA<double>({.n_components = -1}).fit(X), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::PCA<double>({.svd_solver = feral::SvdSolver::randomized}).fit(X), Catch::Contains("randomized"));
    CHECK_THROWS_AS(feral::PCA<double>().fit(feral::Matrix<double>(0, 4)), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::PCA<double>().fit(X.topRows(1)), Catch::Contains("at least 2 samples"));
    feral::Matrix<double> bad = X;
    bad(5, 1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH(feral::PCA<double>().fit(bad), Catch::Contains("PCA::fit") && Catch::Contains("row 5"));
    CHECK_THROWS_WITH(pca.transform(X.leftCols(9)), Catch::Contains("X has 9 features, but the model was fitted with 10"));
    CHECK_THROWS_WITH(pca.inverse_transform(feral::Matrix<double>::Zero(2, 4)), Catch::Contains("4 columns"));
}
