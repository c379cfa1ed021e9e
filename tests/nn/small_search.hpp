// A random search small enough for the halves toy problem (1x8x8 images, 2 classes):
// one or two blocks of 4 or 8 filters, one epoch per trial, seconds per search.
#pragma once

#include <feral/nn/random_search.hpp>

namespace feral::test {

inline nn::RandomSearch<float>::Config small_search(int trials) {
    nn::RandomSearch<float>::Config config;
    config.trials = trials;
    config.epochs = 1;
    config.validation = 0.25;
    config.seed = 9;
    config.space.conv_blocks = {1, 2};
    config.space.filters = {4, 8};
    config.space.kernel_sizes = {3, 5};
    config.space.dense_layers = {0, 1};
    config.space.dense_units = {8, 16};
    config.space.learning_rates = {1e-2, 3e-3};
    config.space.batch_sizes = {16};
    return config;
}

}  // namespace feral::test
