// Accuracy, confusion matrix, per-class scores and the classification report against
// scikit-learn 1.2 (fixtures from tools/fixtures/make_sklearn_fixtures_nb_pca_metrics.py).
#include "feral/metrics/accuracy.hpp"
#include "feral/metrics/classification_report.hpp"
#include "feral/metrics/confusion_matrix.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<int> to_vector(const Eigen::VectorXi& v) { return std::vector<int>(v.data(), v.data() + v.size()); }

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

}  // namespace

TEST_CASE("metrics equal scikit-learn's on every fixture case", "[metrics]") {
    for (const std::string name :
         {"seven_classes", "zero_division", "labels_extra", "labels_subset", "perfect_binary", "long_names"}) {
        DYNAMIC_SECTION(name) {
            const feral::test::Fixture f(feral::test::fixture("metrics/" + name + ".txt"));
            const feral::Labels y = f.labels("y_true"), p = f.labels("y_pred");
            const std::vector<int> labels = f.has("labels") ? to_vector(f.labels("labels")) : std::vector<int>{};

            CHECK(feral::accuracy_score(y, p) == Approx(f.scalar("accuracy")).epsilon(1e-15));

            const auto cm = feral::confusion_matrix(y, p, labels);
            const Eigen::MatrixXd expected_cm = f.matrix("confusion");
            REQUIRE(cm.counts.rows() == expected_cm.rows());
            REQUIRE(cm.counts.cols() == expected_cm.cols());
            CHECK(cm.counts.cast<double>() == expected_cm);

            const auto scores = feral::precision_recall_fscore_support(y, p, labels);
            const auto k = scores.labels.size();
            REQUIRE(static_cast<Eigen::Index>(k) == f.matrix("precision").rows());
            for (std::size_t c = 0; c < k; ++c) {
                const auto i = static_cast<Eigen::Index>(c);
                CHECK(scores.precision[c] == Approx(f.matrix("precision")(i, 0)).margin(1e-15));
                CHECK(scores.recall[c] == Approx(f.matrix("recall")(i, 0)).margin(1e-15));
                CHECK(scores.f1[c] == Approx(f.matrix("f1")(i, 0)).margin(1e-15));
                CHECK(scores.support[c] == static_cast<std::int64_t>(f.matrix("support")(i, 0)));
            }
            const std::pair<feral::Average, const char*> averages[] = {
                {feral::Average::micro, "micro_avg"}, {feral::Average::macro, "macro_avg"}, {feral::Average::weighted, "weighted_avg"}};
            for (const auto& [how, key] : averages) {
                const auto a = scores.average(how);
                CHECK(a.precision == Approx(f.matrix(key)(0, 0)).margin(1e-14));
                CHECK(a.recall == Approx(f.matrix(key)(1, 0)).margin(1e-14));
                CHECK(a.f1 == Approx(f.matrix(key)(2, 0)).margin(1e-14));
            }

            feral::ReportOptions options{.labels = labels};
            if (f.has("target_names")) options.target_names = split_lines(f.text("target_names"));
            CHECK(feral::classification_report(y, p, options) == f.text("report"));
            options.digits = 4;
            CHECK(feral::classification_report(y, p, options) == f.text("report_digits4"));
        }
    }
}

TEST_CASE("accuracy and the confusion matrix agree on a hand-made example", "[metrics]") {
    const feral::Labels y = (feral::Labels(6) << 0, 0, 1, 1, 2, 2).finished();
    const feral::Labels p = (feral::Labels(6) << 0, 1, 1, 1, 0, 2).finished();
    CHECK(feral::accuracy_score(y, p) == Approx(4.0 / 6.0));
    const auto cm = feral::confusion_matrix(y, p);
    CHECK(cm.labels == std::vector<int>{0, 1, 2});
    feral::CountMatrix expected(3, 3);
    expected << 1, 1, 0, 0, 2, 0, 1, 0, 1;
    CHECK(cm.counts == expected);
    CHECK(cm.counts.trace() == 4);
}

TEST_CASE("label metrics reject mismatched, empty and ill-formed input", "[metrics]") {
    const feral::Labels y = (feral::Labels(3) << 0, 1, 1).finished();
    const feral::Labels shorter = (feral::Labels(2) << 0, 1).finished();
    const feral::Labels empty(0);
    CHECK_THROWS_AS(feral::accuracy_score(y, shorter), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::accuracy_score(y, shorter), Catch::Contains("accuracy_score") && Catch::Contains("3") && Catch::Contains("2"));
    CHECK_THROWS_AS(feral::accuracy_score(empty, empty), feral::invalid_argument);
    CHECK_THROWS_AS(feral::confusion_matrix(y, shorter), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::confusion_matrix(y, y, {1, 1}), Catch::Contains("twice"));
    CHECK_THROWS_WITH(feral::confusion_matrix(y, y, {5, 6}), Catch::Contains("none of the given labels"));
    CHECK_THROWS_AS(feral::precision_recall_fscore_support(empty, empty), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::classification_report(y, y, {.target_names = {"only one"}}),
                      Catch::Contains("classification_report") && Catch::Contains("1 target_names for 2 labels"));
    CHECK_THROWS_WITH(feral::classification_report(y, y, {.digits = -1}), Catch::Contains("digits"));
}
