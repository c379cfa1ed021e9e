#include <feral/core/validation.hpp>

#include <catch2/catch.hpp>

#include <limits>

TEST_CASE("Input checks name the offending row, column and value", "[core][validation]") {
    feral::Matrix<float> X = feral::Matrix<float>::Zero(4, 3);
    feral::Labels y = feral::Labels::Zero(4);
    CHECK_NOTHROW(feral::check_fit_input(X, y, "Test::fit"));

    X(2, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(feral::check_fit_input(X, y, "Test::fit"),
                      Catch::Contains("Test::fit") && Catch::Contains("row 2") && Catch::Contains("column 1"));
    X(2, 1) = 0;
    feral::Labels short_y = feral::Labels::Zero(3);
    CHECK_THROWS_WITH(feral::check_fit_input(X, short_y, "Test::fit"), Catch::Contains("4 samples but y has 3"));
    y[3] = -1;
    CHECK_THROWS_WITH(feral::check_fit_input(X, y, "Test::fit"), Catch::Contains("row 3"));
    CHECK_THROWS_AS(feral::check_not_empty(feral::Matrix<float>(0, 3), "Test::fit"), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::check_predict_input(X, 10, "Test::predict"),
                      Catch::Contains("X has 3 features, but the model was fitted with 10"));
    CHECK_THROWS_AS(feral::check_fitted(false, "Test"), feral::not_fitted);
}
