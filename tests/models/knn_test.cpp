// Tests for KNeighborsClassifier and the distance kernels behind it.
#include "feral/core/random.hpp"
#include "feral/detail/kernels/distances.hpp"
#include "feral/models/knn.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace {

using feral::Index;
using feral::Labels;
using feral::Matrix;

feral::test::Fixture& knn_fixture() {
    static feral::test::Fixture f(feral::test::fixture("models/knn.txt"));
    return f;
}

Matrix<float> random_matrix(Index rows, Index cols, std::uint64_t seed) {
    feral::Random rng(seed);
    Matrix<float> m(rows, cols);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.normal());
    return m;
}

}  // namespace

TEST_CASE("squared_distances matches the direct sum over awkward sizes and strides", "[knn][kernels]") {
    using namespace feral::detail::kernels;
    for (Index na : {0, 1, 3, 17}) {
        for (Index nb : {1, 7, 16, 33}) {
            for (Index dim : {1, 15, 16, 17, 64}) {
                const Index lda = dim + 3, ldb = dim + 1, ldo = nb + 2;  // strided, unaligned rows
                const Matrix<float> A = random_matrix(std::max<Index>(na, 1), lda, 1 + static_cast<std::uint64_t>(dim));
                const Matrix<float> B = random_matrix(nb, ldb, 2 + static_cast<std::uint64_t>(dim));
                std::vector<float> a_norms(static_cast<std::size_t>(std::max<Index>(na, 1))), b_norms(static_cast<std::size_t>(nb));
                std::vector<float> a_ref(a_norms.size());
                squared_row_norms(A.data(), na, dim, lda, a_norms.data());
                squared_row_norms_reference(A.data(), na, dim, lda, a_ref.data());
                squared_row_norms(B.data(), nb, dim, ldb, b_norms.data());
                for (Index i = 0; i < na; ++i) CHECK(a_norms[static_cast<std::size_t>(i)] == Approx(a_ref[static_cast<std::size_t>(i)]).epsilon(1e-5));
                std::vector<float> fast(static_cast<std::size_t>(std::max<Index>(na, 1) * ldo), -1.0f), ref(fast.size(), -1.0f);
                squared_distances(A.data(), na, lda, B.data(), nb, ldb, dim, a_norms.data(), b_norms.data(), fast.data(), ldo);
                squared_distances_reference(A.data(), na, lda, B.data(), nb, ldb, dim, ref.data(), ldo);
                for (Index i = 0; i < na; ++i)
                    for (Index j = 0; j < nb; ++j) {
                        const auto at = static_cast<std::size_t>(i * ldo + j);
                        CHECK(fast[at] >= 0.0f);
                        // The expansion loses ~eps * (|a|^2 + |b|^2) absolutely.
                        const float scale = a_norms[static_cast<std::size_t>(i)] + b_norms[static_cast<std::size_t>(j)];
                        CHECK(std::abs(fast[at] - ref[at]) <= 1e-5f * scale + 1e-6f);
                    }
                // Padding between rows is never written.
                for (Index i = 0; i < na; ++i) CHECK(fast[static_cast<std::size_t>(i * ldo + nb)] == -1.0f);
            }
        }
    }
}

TEST_CASE("KNeighborsClassifier matches scikit-learn's neighbours, predictions and probabilities", "[knn]") {
    const auto& f = knn_fixture();
    const Matrix<double> X = f.as<double>("X");
    const Labels y = f.labels("y");
    const Matrix<double> Q = f.as<double>("Q");

    feral::KNeighborsClassifier<double> knn;
    knn.fit(X, y);
    const auto neighbors = knn.kneighbors(Q, 7);
    const Matrix<double> expected_distances = f.as<double>("kneighbors_distances");
    const Matrix<double> expected_indices = f.as<double>("kneighbors_indices");
    for (Index i = 0; i < Q.rows(); ++i)
        for (Index m = 0; m < 7; ++m) {
            CHECK(neighbors.indices(i, m) == static_cast<Index>(expected_indices(i, m)));
            CHECK(neighbors.distances(i, m) == Approx(expected_distances(i, m)).epsilon(1e-12));
        }

    for (auto [weights, name] : {std::pair{feral::NeighborWeights::uniform, "uniform"},
                                 std::pair{feral::NeighborWeights::distance, "distance"}}) {
        SECTION(std::string("weights = ") + name) {
            feral::KNeighborsClassifier<double> model({.n_neighbors = 5, .weights = weights});
            model.fit(X, y);
            CHECK(model.predict(Q) == f.labels(std::string(name) + "_predict"));
            const Matrix<double> proba = model.predict_proba(Q);
            const Matrix<double> expected = f.as<double>(std::string(name) + "_proba");
            CHECK((proba - expected).cwiseAbs().maxCoeff() < 1e-12);
            CHECK(model.classes() == std::vector<int>{1, 3, 5, 7});
        }
    }
}

TEST_CASE("KNeighborsClassifier in float gives the same neighbours and predictions as in double", "[knn]") {
    const auto& f = knn_fixture();
    feral::KNeighborsClassifier<float> knn({.n_neighbors = 5, .n_threads = 2});
    knn.fit(f.as<float>("X"), f.labels("y"));
    CHECK(knn.predict(f.as<float>("Q")) == f.labels("uniform_predict"));
    const auto neighbors = knn.kneighbors(f.as<float>("Q"), 7);
    const Matrix<double> expected = f.as<double>("kneighbors_indices");
    for (Index i = 0; i < expected.rows(); ++i)
        for (Index m = 0; m < 7; ++m) CHECK(neighbors.indices(i, m) == static_cast<Index>(expected(i, m)));
}

TEST_CASE("KNeighborsClassifier breaks distance ties by training index and voting ties by the lowest label", "[knn]") {
    // scikit-learn 1.2's brute force keeps equally distant neighbours in heap order,
    // so it is compared where its choice is not a tie; feral's own rule is checked exactly.
    const auto& f = knn_fixture();
    const Matrix<double> G = f.as<double>("tie_X");
    const Labels gy = f.labels("tie_y");
    const Matrix<double> GQ = f.as<double>("tie_Q");
    for (Index k : {1, 2, 4}) {
        const std::string prefix = "tie_k" + std::to_string(k) + "_";
        feral::KNeighborsClassifier<double> knn({.n_neighbors = k});
        knn.fit(G, gy);
        const auto nb = knn.kneighbors(GQ);
        const Matrix<double> expected_distances = f.as<double>(prefix + "distances");
        const Matrix<double> expected_indices = f.as<double>(prefix + "indices");
        for (Index i = 0; i < GQ.rows(); ++i) {
            // Distances agree exactly (they are square roots of small integers).
            for (Index m = 0; m < k; ++m) CHECK(nb.distances(i, m) == Approx(expected_distances(i, m)).epsilon(1e-15));
            // feral's order: by distance, then by training index; the kept set holds the
            // lowest indices among the candidates at the k-th distance.
            const double kth = nb.distances(i, k - 1);
            std::vector<Index> all_at_kth;
            for (Index t = 0; t < G.rows(); ++t) {
                const double d = (G.row(t) - GQ.row(i)).norm();
                if (d == kth) all_at_kth.push_back(t);
            }
            std::vector<Index> kept_at_kth;
            for (Index m = 0; m < k; ++m) {
                if (m > 0) {
                    const bool ordered = nb.distances(i, m - 1) < nb.distances(i, m) ||
                                         (nb.distances(i, m - 1) == nb.distances(i, m) && nb.indices(i, m - 1) < nb.indices(i, m));
                    CHECK(ordered);
                }
                if (nb.distances(i, m) == kth) kept_at_kth.push_back(nb.indices(i, m));
            }
            INFO("k = " << k << ", query " << i);
            REQUIRE(kept_at_kth.size() <= all_at_kth.size());
            CHECK(std::equal(kept_at_kth.begin(), kept_at_kth.end(), all_at_kth.begin()));
            // Where scikit-learn kept the same set of neighbours, predictions must agree.
            std::set<Index> ours, theirs;
            for (Index m = 0; m < k; ++m) {
                ours.insert(nb.indices(i, m));
                theirs.insert(static_cast<Index>(expected_indices(i, m)));
            }
            if (ours != theirs) continue;
            for (auto [weights, name] : {std::pair{feral::NeighborWeights::uniform, "uniform"},
                                         std::pair{feral::NeighborWeights::distance, "distance"}}) {
                feral::KNeighborsClassifier<double> model({.n_neighbors = k, .weights = weights});
                model.fit(G, gy);
                const Matrix<double> query = GQ.row(i);
                INFO("k = " << k << ", query " << i << ", weights " << name);
                CHECK(model.predict(query)[0] == f.labels(prefix + name + "_predict")[i]);
                const Matrix<double> proba = model.predict_proba(query);
                const Matrix<double> expected = f.as<double>(prefix + name + "_proba");
                CHECK((proba.row(0) - expected.row(i)).cwiseAbs().maxCoeff() < 1e-12);
            }
        }
    }
}

TEST_CASE("KNeighborsClassifier with distance weights lets exact matches decide alone", "[knn]") {
    Matrix<float> X(4, 1);
    X << 0.0f, 0.0f, 1.0f, 1.1f;
    Labels y(4);
    y << 5, 2, 2, 2;
    feral::KNeighborsClassifier<> knn({.n_neighbors = 4, .weights = feral::NeighborWeights::distance});
    knn.fit(X, y);
    Matrix<float> q(1, 1);
    q << 0.0f;
    // Two exact matches (labels 5 and 2) vote 1 each, the others 0: a tie won by label 2.
    const Matrix<float> proba = knn.predict_proba(q);
    CHECK(proba(0, 0) == 0.5f);
    CHECK(proba(0, 1) == 0.5f);
    CHECK(knn.predict(q)[0] == 2);
    q << 0.9f;  // no exact match: 1/d weights, the three at 1, 1.1 and 0.9 outweigh label 5
    CHECK(knn.predict(q)[0] == 2);
    feral::KNeighborsClassifier<> uniform({.n_neighbors = 2});
    uniform.fit(X, y);
    q << -1.0f;  // neighbours 0 (label 5) and 1 (label 2): voting tie -> lowest label
    CHECK(uniform.predict(q)[0] == 2);
}

TEST_CASE("KNeighborsClassifier gives the same result for any thread count", "[knn]") {
    const Matrix<float> X = random_matrix(700, 20, 3);
    const Matrix<float> Q = random_matrix(300, 20, 4);
    Labels y(700);
    for (Index i = 0; i < 700; ++i) y[i] = static_cast<int>(i % 3);
    feral::KNeighborsClassifier<> one({.n_neighbors = 3, .n_threads = 1}), three({.n_neighbors = 3, .n_threads = 3});
    one.fit(X, y);
    three.fit(X, y);
    const auto a = one.kneighbors(Q), b = three.kneighbors(Q);
    CHECK(a.indices == b.indices);
    CHECK(a.distances == b.distances);
    // Brute-force check of the nearest neighbour across block boundaries (1024 training rows per block).
    for (Index i = 0; i < Q.rows(); ++i) {
        Index best = 0;
        float best_d = std::numeric_limits<float>::infinity();
        for (Index t = 0; t < X.rows(); ++t) {
            const float d = (X.row(t) - Q.row(i)).squaredNorm();
            if (d < best_d) best_d = d, best = t;
        }
        CHECK(a.indices(i, 0) == best);
    }
}

TEST_CASE("KNeighborsClassifier rejects bad input with a message naming the problem", "[knn]") {
    Matrix<float> X(3, 2);
    X << 0, 0, 1, 1, 2, 2;
    Labels y(3);
    y << 0, 1, 1;
    feral::KNeighborsClassifier<> knn({.n_neighbors = 5});
    CHECK_THROWS_FERAL(knn.fit(X, y), feral::invalid_argument, "n_neighbors = 5");
    CHECK_THROWS_AS(feral::KNeighborsClassifier<>({.n_neighbors = 0}).fit(X, y), feral::invalid_argument);
    CHECK_THROWS_AS(feral::KNeighborsClassifier<>().predict(X), feral::not_fitted);
    feral::KNeighborsClassifier<> ok({.n_neighbors = 1});
    CHECK_THROWS_FERAL(ok.fit(X, Labels::Zero(3)), feral::invalid_argument, "1 distinct class");
    CHECK_THROWS_FERAL(ok.fit(X, Labels::Zero(2)), feral::invalid_argument, "3 samples but y has 2");
    Matrix<float> bad = X;
    bad(1, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_FERAL(ok.fit(bad, y), feral::invalid_argument, "row 1");
    CHECK_THROWS_AS(ok.fit(Matrix<float>(0, 2), Labels(0)), feral::invalid_argument);
    ok.fit(X, y);
    CHECK_THROWS_FERAL(ok.predict(Matrix<float>::Zero(1, 3)), feral::invalid_argument, "3 features");
    CHECK_THROWS_FERAL(ok.kneighbors(X, 4), feral::invalid_argument, "k = 4");
    Labels unseen(3);
    unseen << 0, 1, 9;
    CHECK_THROWS_FERAL(ok.score(X, unseen), feral::invalid_argument, "label 9");
}

TEST_CASE("KNeighborsClassifier survives save and load, and refuses another model's file", "[knn]") {
    const auto& f = knn_fixture();
    feral::KNeighborsClassifier<float> knn({.n_neighbors = 3, .weights = feral::NeighborWeights::distance});
    knn.fit(f.as<float>("X"), f.labels("y"));
    const auto dir = feral::test::scratch_dir("knn_save");
    knn.save(dir / "knn.feral");
    const auto loaded = feral::KNeighborsClassifier<float>::load(dir / "knn.feral");
    CHECK(loaded.predict_proba(f.as<float>("Q")) == knn.predict_proba(f.as<float>("Q")));
    CHECK(loaded.config().n_neighbors == 3);
    CHECK(loaded.config().weights == feral::NeighborWeights::distance);
    CHECK_THROWS_AS(knn.save(dir / "knn.feral"), feral::io_error);
    CHECK_THROWS_AS(feral::KNeighborsClassifier<double>::load(dir / "knn.feral"), feral::format_error);
}
