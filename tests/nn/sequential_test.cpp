#include <feral/nn/dense.hpp>
#include <feral/nn/dropout.hpp>
#include <feral/nn/flatten.hpp>
#include <feral/nn/lstm.hpp>
#include <feral/nn/progress.hpp>
#include <feral/nn/sequential.hpp>
#include <feral/nn/sgd.hpp>

#include <catch2/catch.hpp>

#include "test_support.hpp"

#include <sstream>

using feral::Index;
using feral::Labels;
using feral::Matrix;
using namespace feral::nn;

namespace {
// Two Gaussian blobs in 4 features (a 1 x 2 x 2 "image"), separable: class = sign of the mean.
void toy_problem(Index n, std::uint64_t seed, Matrix<float>& X, Labels& y) {
    feral::Random rng(seed);
    X.resize(n, 4);
    y.resize(n);
    for (Index i = 0; i < n; ++i) {
        y[i] = static_cast<int>(i % 2);
        const double centre = y[i] == 1 ? 1.0 : -1.0;
        for (Index j = 0; j < 4; ++j) X(i, j) = static_cast<float>(centre + 0.5 * rng.normal());
    }
}

Sequential<float> small_mlp(std::uint64_t seed, double dropout = 0.0) {
    Sequential<float> model;
    model.add<Flatten>().add<Dense>({.units = 16, .activation = Activation::relu});
    if (dropout > 0) model.add<Dropout>({.rate = dropout});
    model.add<Dense>({.units = 2});
    model.build({1, 2, 2}, seed);
    return model;
}
}  // namespace

TEST_CASE("Sequential learns a separable toy problem", "[nn][sequential]") {
    Matrix<float> X, Xt;
    Labels y, yt;
    toy_problem(400, 1, X, y);
    toy_problem(200, 2, Xt, yt);
    auto model = small_mlp(3);
    model.compile(std::make_unique<Adam<float>>(Adam<float>::Config{.learning_rate = 0.01}));
    const History h = model.fit(X, y, {.epochs = 10, .batch_size = 16, .validation_split = 0.25, .verbose = 0});
    REQUIRE(h.epochs() == 10);
    CHECK(h.loss.back() < h.loss.front());
    CHECK(h.val_accuracy.back() > 0.95);
    CHECK(h.learning_rate.back() == Approx(0.01));
    const auto score = model.evaluate(Xt, yt);
    CHECK(score.accuracy > 0.95);
    CHECK(score.loss < 0.3);
    const Labels predicted = model.predict(Xt);
    CHECK(static_cast<double>((predicted.array() == yt.array()).count()) / 200.0 == Approx(score.accuracy));
    const Matrix<float> p = model.predict_proba(Xt);
    CHECK(p.rows() == 200);
    CHECK(p.cols() == 2);
    CHECK((p.rowwise().sum().array() - 1.0f).abs().maxCoeff() < 1e-5f);
}

TEST_CASE("Two fits with the same seeds give bit-identical weights, whatever the thread count", "[nn][sequential]") {
    Matrix<float> X;
    Labels y;
    toy_problem(150, 4, X, y);
    std::vector<Matrix<float>> weights[3];
    const int threads[3] = {1, 1, 3};
    for (int run = 0; run < 3; ++run) {
        auto model = small_mlp(9, 0.25);
        model.fit(X, y,
                  {.epochs = 3, .batch_size = 8, .seed = 5, .class_weight = {1.0, 2.0}, .verbose = 0,
                   .n_threads = threads[run]});
        weights[run] = model.weights();
    }
    REQUIRE(weights[0].size() == 4);
    for (std::size_t k = 0; k < weights[0].size(); ++k) {
        CHECK(weights[0][k] == weights[1][k]);
        CHECK(weights[0][k] == weights[2][k]);
    }
    auto other = small_mlp(9, 0.25);
    other.fit(X, y, {.epochs = 3, .batch_size = 8, .seed = 6, .verbose = 0});
    CHECK_FALSE(other.weights()[0] == weights[0][0]);
}

TEST_CASE("Sequential prints a Keras-style summary with totals", "[nn][sequential]") {
    Sequential<float> model;
    model.add<LSTM>(8).add<Dense>({.units = 7});
    const std::string before = model.summary();
    CHECK_THAT(before, Catch::Contains("unbuilt"));
    model.build({1, 5, 6}, 0);
    const std::string s = model.summary();
    CHECK_THAT(s, Catch::Contains("LSTM"));
    CHECK_THAT(s, Catch::Contains("Dense"));
    CHECK_THAT(s, Catch::Contains("(None, 8)"));
    const Index lstm = 6 * 32 + 8 * 32 + 32, dense = 8 * 7 + 7;
    CHECK(model.parameter_count() == lstm + dense);
    CHECK_THAT(s, Catch::Contains("Total params: " + std::to_string(lstm + dense)));
}

TEST_CASE("fit reports progress: one line per epoch when the stream is not a terminal", "[nn][sequential]") {
    Matrix<float> X;
    Labels y;
    toy_problem(64, 1, X, y);
    auto model = small_mlp(1);
    std::ostringstream log;
    model.fit(X, y, {.epochs = 3, .batch_size = 16, .verbose = 1, .out = &log});
    const std::string text = log.str();
    CHECK(std::count(text.begin(), text.end(), '\n') == 3);
    CHECK(text.find('\r') == std::string::npos);
    CHECK_THAT(text, Catch::Contains("Epoch 3/3") && Catch::Contains("4/4") && Catch::Contains("loss"));
    std::ostringstream quiet;
    model.fit(X, y, {.epochs = 2, .verbose = 0, .out = &quiet});
    CHECK(quiet.str().empty());
}

TEST_CASE("Progress writes running lines to a log during a long epoch, and none at its end", "[nn][sequential]") {
    // log_every_seconds = 0 stands in for an epoch long enough that every update is due.
    std::ostringstream log;
    feral::nn::Progress progress(1, &log, 0, 0.0);
    progress.begin_epoch(0, 2, 4);
    for (feral::Index done = 1; done <= 4; ++done) progress.update(done, done * 8, 1.5, 0.25);
    const std::string running = log.str();
    CHECK(std::count(running.begin(), running.end(), '\n') == 3);  // after batches 1-3; batch 4 ends the epoch
    CHECK(running.find('\r') == std::string::npos);
    CHECK_THAT(running, Catch::Contains("Epoch 1/2 1/4") && Catch::Contains("Epoch 1/2 3/4") &&
                            Catch::Contains("ETA") && Catch::Contains("loss 1.5000"));
    CHECK(running.find("4/4") == std::string::npos);

    // With the default minute, a short epoch writes only its finished line (as fit does above).
    std::ostringstream short_log;
    feral::nn::Progress minute(1, &short_log, 0);
    minute.begin_epoch(0, 1, 4);
    for (feral::Index done = 1; done <= 4; ++done) minute.update(done, done * 8, 1.5, 0.25);
    CHECK(short_log.str().empty());
}

TEST_CASE("fit and predict reject bad input with messages naming the problem", "[nn][sequential]") {
    Matrix<float> X;
    Labels y;
    toy_problem(40, 1, X, y);
    auto model = small_mlp(1);
    const FitConfig quiet{.verbose = 0};
    SECTION("input width not matching the model's input shape") {
        Matrix<float> wrong = Matrix<float>::Zero(40, 5);
        CHECK_THROWS_WITH(model.fit(wrong, y, quiet), Catch::Contains("5 values per sample") && Catch::Contains("1x2x2"));
        CHECK_THROWS_AS(model.predict(wrong), feral::invalid_argument);
    }
    SECTION("labels out of range") {
        Labels bad = y;
        bad[7] = 2;
        CHECK_THROWS_WITH(model.fit(X, bad, quiet), Catch::Contains("label 2 at row 7"));
    }
    SECTION("empty input") {
        CHECK_THROWS_WITH(model.fit(Matrix<float>(0, 4), Labels(0), quiet), Catch::Contains("empty"));
    }
    SECTION("NaN in the input") {
        X(3, 1) = std::nanf("");
        CHECK_THROWS_WITH(model.fit(X, y, quiet), Catch::Contains("row 3, column 1"));
    }
    SECTION("impossible settings") {
        CHECK_THROWS_WITH(model.fit(X, y, {.batch_size = 0, .verbose = 0}), Catch::Contains("batch_size"));
        CHECK_THROWS_WITH(model.fit(X, y, {.validation_split = 1.0, .verbose = 0}), Catch::Contains("validation_split"));
        CHECK_THROWS_WITH(model.fit(X, y, {.class_weight = {1.0}, .verbose = 0}), Catch::Contains("class_weight"));
        CHECK_THROWS_AS(SGD<float>({.learning_rate = 0.0}), feral::invalid_argument);
    }
    SECTION("a diverging loss stops with numerical_error naming epoch and batch") {
        X *= 1e6f;
        model.compile(std::make_unique<SGD<float>>(SGD<float>::Config{.learning_rate = 1e6}));
        CHECK_THROWS_AS(model.fit(X, y, {.epochs = 5, .batch_size = 8, .verbose = 0}), feral::numerical_error);
        CHECK_THROWS_WITH(model.fit(X, y, {.epochs = 5, .batch_size = 8, .verbose = 0}),
                          Catch::Contains("epoch") && Catch::Contains("batch"));
    }
    SECTION("an input shape the first layer cannot take") {
        Sequential<float> lstm_model;
        lstm_model.add<LSTM>(4).add<Dense>({.units = 2});
        CHECK_THROWS_WITH(lstm_model.build({3, 4, 4}, 0), Catch::Contains("layer 0 (LSTM)"));
    }
    SECTION("a model that is not built") {
        Sequential<float> unbuilt;
        unbuilt.add<Dense>({.units = 2});
        CHECK_THROWS_AS(unbuilt.predict(X), feral::not_fitted);
    }
}

TEST_CASE("fit on a Dataset scales pixels by 1/255 and builds the model for its shape", "[nn][sequential]") {
    feral::Dataset data;
    data.shape = {1, 2, 2};
    data.class_names = {"dark", "bright"};
    data.pixels.resize(200, 4);
    data.labels.resize(200);
    feral::Random rng(3);
    for (Index i = 0; i < 200; ++i) {
        data.labels[i] = static_cast<int>(i % 2);
        for (Index j = 0; j < 4; ++j)
            data.pixels(i, j) = static_cast<std::uint8_t>((data.labels[i] ? 160 : 40) + rng.integer(-30, 30));
    }
    Sequential<float> model;
    model.add<Flatten>().add<Dense>({.units = 8, .activation = Activation::relu}).add<Dense>({.units = 2});
    model.compile(std::make_unique<Adam<float>>(Adam<float>::Config{.learning_rate = 0.02}));
    model.fit(data, {.epochs = 15, .batch_size = 20, .seed = 1, .verbose = 0});
    CHECK(model.input_shape() == feral::ImageShape{1, 2, 2});
    CHECK(model.class_names() == data.class_names);
    CHECK(model.evaluate(data).accuracy > 0.95);
    CHECK(Sequential<float>::to_input(data).maxCoeff() <= 1.0f);
}
