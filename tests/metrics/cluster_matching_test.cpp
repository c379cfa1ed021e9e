// Linear assignment and best cluster->class matching against scipy's linear_sum_assignment.
#include "feral/metrics/cluster_matching.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <vector>

namespace {

/// Best total over all assignments by brute force (rows <= cols, small sizes).
double brute_force_best(const Eigen::MatrixXd& cost, bool maximize) {
    const bool transposed = cost.rows() > cost.cols();
    const Eigen::MatrixXd a = transposed ? Eigen::MatrixXd(cost.transpose()) : cost;
    std::vector<Eigen::Index> cols(static_cast<std::size_t>(a.cols()));
    std::iota(cols.begin(), cols.end(), 0);
    double best = maximize ? -1e300 : 1e300;
    do {
        double total = 0;
        for (Eigen::Index r = 0; r < a.rows(); ++r) total += a(r, cols[static_cast<std::size_t>(r)]);
        best = maximize ? std::max(best, total) : std::min(best, total);
    } while (std::next_permutation(cols.begin(), cols.end()));
    return best;
}

}  // namespace

TEST_CASE("linear_sum_assignment finds scipy's optimum on square, wide and tall matrices", "[metrics]") {
    const feral::test::Fixture f(feral::test::fixture("metrics/linear_sum_assignment.txt"));
    for (int i = 0; i < 5; ++i)
        for (const bool maximize : {false, true}) {
            const std::string tag = "case" + std::to_string(i) + (maximize ? "_max" : "_min");
            const Eigen::MatrixXd cost = f.matrix(tag + "_cost");
            const auto result = feral::linear_sum_assignment(cost, maximize);
            INFO(tag);
            REQUIRE(static_cast<Eigen::Index>(result.rows.size()) == std::min(cost.rows(), cost.cols()));
            CHECK(result.total == Approx(f.scalar(tag + "_total")).epsilon(1e-12));
            // A valid one-to-one assignment, rows increasing, whose cost is the reported total.
            CHECK(std::is_sorted(result.rows.begin(), result.rows.end()));
            CHECK(std::set<Eigen::Index>(result.rows.begin(), result.rows.end()).size() == result.rows.size());
            CHECK(std::set<Eigen::Index>(result.cols.begin(), result.cols.end()).size() == result.cols.size());
            double total = 0;
            for (std::size_t p = 0; p < result.rows.size(); ++p) total += cost(result.rows[p], result.cols[p]);
            CHECK(total == Approx(result.total));
        }
}

TEST_CASE("linear_sum_assignment matches brute force on random small problems", "[metrics]") {
    std::srand(7);
    for (int trial = 0; trial < 40; ++trial) {
        const Eigen::Index r = 1 + trial % 5, c = 1 + (trial / 5) % 6;
        const Eigen::MatrixXd cost = Eigen::MatrixXd::Random(r, c).array().round() * 3;  // many ties
        for (const bool maximize : {false, true})
            CHECK(feral::linear_sum_assignment(cost, maximize).total == Approx(brute_force_best(cost, maximize)));
    }
}

TEST_CASE("best cluster matching equals scipy's optimum with k equal to, above and below the class count", "[metrics]") {
    const feral::test::Fixture f(feral::test::fixture("metrics/cluster_matching.txt"));
    for (int i = 0; i < 3; ++i) {
        const std::string tag = "case" + std::to_string(i);
        const feral::Labels y = f.labels(tag + "_y"), clusters = f.labels(tag + "_clusters");
        const auto match = feral::best_cluster_matching(y, clusters);
        INFO(tag);
        CHECK(match.accuracy == Approx(f.scalar(tag + "_accuracy")).epsilon(1e-12));
        CHECK(feral::best_cluster_matching_accuracy(y, clusters) == match.accuracy);
        // The mapping is one to one and reproduces the accuracy.
        std::set<int> used;
        for (const auto& [cluster, label] : match.cluster_to_class)
            if (label >= 0) CHECK(used.insert(label).second);
        Eigen::Index hits = 0;
        for (Eigen::Index s = 0; s < y.size(); ++s) hits += match.cluster_to_class.at(clusters[s]) == y[s];
        CHECK(hits == match.matched);
    }
}

TEST_CASE("a relabelled perfect clustering scores 1 and extra clusters count as errors", "[metrics]") {
    const feral::Labels y = (feral::Labels(6) << 0, 0, 1, 1, 2, 2).finished();
    const feral::Labels permuted = (feral::Labels(6) << 5, 5, 3, 3, 4, 4).finished();
    CHECK(feral::best_cluster_matching_accuracy(y, permuted) == 1.0);
    const feral::Labels split = (feral::Labels(6) << 5, 6, 3, 3, 4, 4).finished();  // 4 clusters, 3 classes
    const auto match = feral::best_cluster_matching(y, split);
    CHECK(match.accuracy == Approx(5.0 / 6.0));
    CHECK(match.cluster_to_class.size() == 4);
    CHECK_THROWS_AS(feral::best_cluster_matching(y, feral::Labels(2)), feral::invalid_argument);
    Eigen::MatrixXd bad = Eigen::MatrixXd::Zero(2, 2);
    bad(0, 1) = std::nan("");
    CHECK_THROWS_AS(feral::linear_sum_assignment(bad), feral::invalid_argument);
}
