#include <feral/nn/batch_norm.hpp>
#include <feral/nn/conv2d.hpp>
#include <feral/nn/dense.hpp>
#include <feral/nn/dropout.hpp>
#include <feral/nn/flatten.hpp>
#include <feral/nn/lstm.hpp>
#include <feral/nn/max_pool2d.hpp>
#include <feral/nn/sequential.hpp>

#include <catch2/catch.hpp>

#include "test_support.hpp"

#include <fstream>

using feral::Index;
using feral::Labels;
using feral::Matrix;
using namespace feral::nn;

namespace {
Sequential<float> tiny_cnn(Index dense_units = 8) {
    Sequential<float> model;
    model.add<Conv2D>({.filters = 4, .kernel_size = 3, .padding = Padding::same, .activation = Activation::relu})
        .add<BatchNorm>()
        .add<MaxPool2D>({.pool_size = 2})
        .add<Flatten>()
        .add<Dense>({.units = dense_units, .activation = Activation::relu})
        .add<Dropout>({.rate = 0.3})
        .add<Dense>({.units = 3});
    model.build({1, 8, 8}, 4);
    return model;
}

Matrix<float> random_images(Index n, std::uint64_t seed) {
    feral::Random rng(seed);
    Matrix<float> X(n, 64);
    for (Index i = 0; i < X.size(); ++i) X.data()[i] = rng.uniform_float();
    return X;
}
}  // namespace

TEST_CASE("A saved and reloaded model gives identical predictions (weights and batch-norm state)",
          "[nn][save_load]") {
    const Matrix<float> X = random_images(30, 1);
    Labels y(30);
    for (Index i = 0; i < 30; ++i) y[i] = static_cast<int>(i % 3);
    auto model = tiny_cnn();
    model.set_class_names({"a", "b", "c"});
    model.fit(X, y, {.epochs = 2, .batch_size = 10, .verbose = 0});  // moves the batch-norm statistics
    const auto dir = feral::test::scratch_dir("nn_save_load");
    model.save(dir / "cnn.feral");
    CHECK_THROWS_AS(model.save(dir / "cnn.feral"), feral::io_error);
    const auto loaded = Sequential<float>::load(dir / "cnn.feral");
    CHECK(loaded.size() == model.size());
    CHECK(loaded.class_names() == model.class_names());
    CHECK(loaded.summary() == model.summary());
    CHECK(loaded.predict_proba(X) == model.predict_proba(X));
    const auto w1 = model.weights(), w2 = loaded.weights();
    REQUIRE(w1.size() == w2.size());
    for (std::size_t k = 0; k < w1.size(); ++k) CHECK(w1[k] == w2[k]);

    auto same_architecture = tiny_cnn();
    same_architecture.load_weights(dir / "cnn.feral");
    CHECK(same_architecture.predict_proba(X) == model.predict_proba(X));
}

TEST_CASE("An LSTM model round-trips through the file", "[nn][save_load]") {
    Sequential<double> model;
    model.add<LSTM>(5).add<Dense>({.units = 2});
    model.build({1, 4, 3}, 2);
    const auto dir = feral::test::scratch_dir("nn_save_load_lstm");
    model.save(dir / "lstm.feral");
    const auto loaded = Sequential<double>::load(dir / "lstm.feral");
    Matrix<double> X = Matrix<double>::Random(6, 12);
    CHECK(loaded.predict_proba(X) == model.predict_proba(X));
    CHECK_THROWS_WITH(Sequential<float>::load(dir / "lstm.feral"), Catch::Contains("Sequential<double>"));
}

TEST_CASE("Loading weights into a different architecture names the layer that differs and changes nothing", "[nn][save_load]") {
    const auto dir = feral::test::scratch_dir("nn_save_load_mismatch");
    auto saved = tiny_cnn(8);
    auto shifted = saved.weights();
    for (auto& m : shifted) m.array() += 1.0f;  // so that an early layer assigned by mistake would show
    saved.set_weights(shifted);
    saved.save(dir / "cnn8.feral");
    auto wider = tiny_cnn(16);
    const auto before = wider.weights();
    CHECK_THROWS_WITH(wider.load_weights(dir / "cnn8.feral"),
                      Catch::Contains("layer 4 (Dense)") && Catch::Contains("kernel"));
    CHECK(wider.weights() == before);  // layers 0-3 fit, but were not assigned either
    Sequential<float> other;
    other.add<Flatten>().add<Dense>({.units = 3});
    other.build({1, 8, 8}, 0);
    CHECK_THROWS_WITH(other.load_weights(dir / "cnn8.feral"), Catch::Contains("7 layers"));
    Sequential<float> swapped;
    swapped.add<Conv2D>({.filters = 4, .kernel_size = 3, .padding = Padding::same})
        .add<MaxPool2D>({.pool_size = 2})
        .add<BatchNorm>()
        .add<Flatten>()
        .add<Dense>({.units = 8})
        .add<Dropout>({.rate = 0.3})
        .add<Dense>({.units = 3});
    swapped.build({1, 8, 8}, 0);
    CHECK_THROWS_WITH(swapped.load_weights(dir / "cnn8.feral"),
                      Catch::Contains("layer 1 is MaxPool2D in this model but BatchNorm"));
}

TEST_CASE("set_weights names the first tensor that does not fit and then changes nothing", "[nn][save_load]") {
    auto model = tiny_cnn(8);
    const auto before = model.weights();
    auto wrong_last = before;
    for (auto& m : wrong_last) m.array() += 1.0f;   // other values, same shapes...
    wrong_last.back() = Matrix<float>::Zero(1, 4);  // ...except the last Dense bias
    CHECK(model.weights_mismatch(before).empty());
    CHECK_THROWS_FERAL(model.set_weights(wrong_last), feral::invalid_argument,
                       "layer 6 (Dense) bias is 1 x 3, got 1 x 4");
    CHECK(model.weights() == before);  // the earlier tensors were not assigned either
    auto one_more = before;
    one_more.push_back(Matrix<float>::Zero(1, 1));
    CHECK_THROWS_FERAL(model.set_weights(one_more), feral::invalid_argument, "tensors given, the model has");
    auto one_less = before;
    one_less.pop_back();
    CHECK_THROWS_FERAL(model.set_weights(one_less), feral::invalid_argument, "needs more");
    CHECK(model.weights() == before);
}

TEST_CASE("A corrupt or truncated model file is a format_error naming the file", "[nn][save_load]") {
    const auto dir = feral::test::scratch_dir("nn_save_load_corrupt");
    tiny_cnn().save(dir / "cnn.feral");
    std::vector<char> bytes;
    {
        std::ifstream in(dir / "cnn.feral", std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    {
        std::ofstream out(dir / "short.feral", std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    }
    CHECK_THROWS_WITH(Sequential<float>::load(dir / "short.feral"), Catch::Contains("short.feral"));
    CHECK_THROWS_AS(Sequential<float>::load(dir / "missing.feral"), feral::io_error);
}
