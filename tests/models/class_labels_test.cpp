// Tests for ClassLabels: the classes a classifier was fitted on, and how scores map back to labels.
#include "feral/models/class_labels.hpp"

#include <catch2/catch.hpp>

namespace {

feral::ClassLabels fitted_on(std::initializer_list<int> labels) {
    feral::Labels y(static_cast<feral::Index>(labels.size()));
    feral::Index i = 0;
    for (const int label : labels) y[i++] = label;
    feral::ClassLabels classes;
    classes.fit(y, "test");
    return classes;
}

}  // namespace

TEST_CASE("ClassLabels keeps the sorted distinct labels and maps them both ways", "[models][class_labels]") {
    const feral::ClassLabels classes = fitted_on({6, 0, 3, 0, 6});  // a 6-class study has gaps
    CHECK(classes.classes() == std::vector<int>{0, 3, 6});
    CHECK(classes.index_of(3) == 1);
    CHECK(classes.index_of(1) == -1);
    CHECK(classes.decode(2) == 6);
    feral::Labels y(2);
    y << 6, 1;
    CHECK_THROWS_WITH(classes.encode(y, "score"), Catch::Matchers::Contains("label 1 at row 1"));
    CHECK_THROWS_WITH(fitted_on({4, 4}), Catch::Matchers::Contains("1 distinct class (4)"));
}

TEST_CASE("ClassLabels::decode_argmax returns each row's best label, the smallest on ties", "[models][class_labels]") {
    const feral::ClassLabels classes = fitted_on({2, 5, 9});
    Eigen::MatrixXd scores(4, 3);
    scores << 0.1, 0.7, 0.2,    // column 1 -> label 5
              -3.0, -2.0, -1.0, // negative scores (log-likelihoods): column 2 -> label 9
              0.4, 0.4, 0.2,    // tie between labels 2 and 5: the smaller, as numpy.argmax
              0.3, 0.3, 0.3;    // all equal: the first
    const feral::Labels predicted = classes.decode_argmax(scores);
    CHECK(predicted[0] == 5);
    CHECK(predicted[1] == 9);
    CHECK(predicted[2] == 2);
    CHECK(predicted[3] == 2);
    CHECK(classes.decode_argmax(scores.cast<float>().eval()) == predicted);
}
