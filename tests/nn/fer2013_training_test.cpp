// A network trained on real FER2013 faces learns: the `small` benchmark CNN, trained for a
// few epochs on a class-capped subset of the training folder, beats the majority-class
// rate on the official test split, and the run is reproducible to the bit.
#include <feral/data/folder_loader.hpp>
#include <feral/data/resample.hpp>
#include <feral/nn/architectures.hpp>

#include "test_support.hpp"

#include <catch2/catch.hpp>

namespace {

struct Run {
    double test_accuracy;
    std::vector<feral::Matrix<float>> weights;
};

Run train_small(const feral::Dataset& train, const feral::Dataset& test, int threads) {
    auto arch = feral::nn::architectures::make<float>("small", 7);
    arch.model.compile(std::make_unique<feral::nn::Adam<float>>(feral::nn::Adam<float>::Config{.learning_rate = 1e-3}));
    arch.model.fit(train, {.epochs = 3, .batch_size = arch.batch_size, .seed = 11, .verbose = 0, .n_threads = threads});
    const feral::Labels predicted = arch.model.predict(test);
    const double accuracy = static_cast<double>((predicted.array() == test.labels.array()).count()) /
                            static_cast<double>(test.size());
    return {accuracy, arch.model.weights()};
}

}  // namespace

TEST_CASE("The small CNN learns real faces in three epochs, identically for any thread count", "[nn][fer2013]") {
    auto root = feral::test::fer2013_root("nn_fer2013_training");
    if (!root) return;
    const auto train = feral::first_n_per_class(feral::load_image_folder(*root / "train", {.keep_sources = false}).data, 800);
    const auto test = feral::load_image_folder(*root / "test", {.keep_sources = false}).data;

    const Run two = train_small(train, test, 2);
    // Majority class (happy) is 24.5 % of the test split; chance over 7 classes 14 %.
    INFO("test accuracy " << two.test_accuracy);
    CHECK(two.test_accuracy > 0.33);

    const Run one = train_small(train, test, 1);
    CHECK(one.test_accuracy == two.test_accuracy);
    REQUIRE(one.weights.size() == two.weights.size());
    for (std::size_t i = 0; i < one.weights.size(); ++i) CHECK(one.weights[i] == two.weights[i]);
}
