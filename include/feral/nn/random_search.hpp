// feral/nn/random_search.hpp — random search over CNN architectures and hyperparameters.
//
// Each trial draws a CnnConfig from a SearchSpace — number of conv blocks, the filters of
// each block, kernel size, number and width of dense layers, dropout, batch norm,
// learning rate, batch size, and the block shape (convolutions per block, dropout after
// each block, batch norm after each dense layer) — builds it (architectures::make_cnn),
// trains it for `epochs` on the training part and scores it on a held-out validation part
// (a stratified split of the data, feral::stratified_split). The best trial is the one
// with the highest validation accuracy (ties: lower validation loss, then earlier trial).
//
// Randomness: trial t draws its configuration from Random(seed).fork(t) and is built and
// trained with seeds derived from (seed, t); the split uses `seed`. So the whole search
// is reproducible, and trial t is the same whatever the number of trials.
//
// Example:
//   feral::nn::RandomSearch<> search({.trials = 10, .epochs = 5, .validation = 0.2, .seed = 1});
//   auto result = search.run(X, y, {1, 48, 48}, 7);
//   std::cout << result.best().config.describe() << " " << result.best().val_accuracy;
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/data/split.hpp"
#include "feral/nn/architectures.hpp"

#include <chrono>
#include <iostream>
#include <vector>

namespace feral::nn {

/// The values a trial may take; each trial draws uniformly from every list.
struct SearchSpace {
    std::vector<int> conv_blocks{1, 2, 3};
    std::vector<Index> filters{16, 32, 64};     ///< drawn independently for each block
    std::vector<Index> kernel_sizes{3, 5};
    std::vector<int> dense_layers{0, 1, 2};
    std::vector<Index> dense_units{64, 128, 256};  ///< drawn independently for each dense layer
    std::vector<double> dropout{0.0, 0.25, 0.5};
    std::vector<bool> batch_norm{true, false};
    std::vector<double> learning_rates{1e-3, 5e-4};
    std::vector<Index> batch_sizes{32, 64};
    // The block shape (see CnnConfig); the defaults keep one convolution per block, no
    // block dropout and no dense batch norm. Drawn after the lists above, so adding them
    // did not change what those lists draw for a given seed.
    std::vector<Index> convs_per_block{1};       ///< convolutions per block (each >= 1)
    std::vector<double> block_dropout{0.0};      ///< dropout after each block's pooling, in [0, 1)
    std::vector<bool> dense_batch_norm{false};   ///< BatchNorm after each hidden dense layer
    std::vector<double> batch_norm_momentum{0.99};  ///< every BatchNorm's momentum (Keras convention)
};

struct Trial {
    int index = 0;
    CnnConfig config;
    double val_accuracy = 0;
    double val_loss = 0;
    double train_accuracy = 0;
    Index parameters = 0;
    double seconds = 0;
};

struct SearchResult {
    std::vector<Trial> trials;
    std::size_t best_index = 0;
    [[nodiscard]] const Trial& best() const { return trials.at(best_index); }
};

template <class T = float>
class RandomSearch {
public:
    struct Config {
        int trials = 10;
        int epochs = 5;
        double validation = 0.2;  ///< fraction held out (stratified) for selection
        std::uint64_t seed = 0;
        SearchSpace space{};
        int n_threads = 0;
        int verbose = 0;          ///< 0 silent, 1 one line per trial (to std::cout), 2 also each trial's epochs
    };

    RandomSearch() = default;
    explicit RandomSearch(Config config) : config_(std::move(config)) {}

    [[nodiscard]] const Config& config() const { return config_; }

    /// The configuration trial `t` uses (a pure function of the seed, space and t).
    [[nodiscard]] CnnConfig draw(int t) const {
        Random rng = Random(config_.seed).fork(static_cast<std::uint64_t>(t));
        const SearchSpace& s = config_.space;
        auto pick = [&rng](const auto& options) { return options[static_cast<std::size_t>(rng.below(options.size()))]; };
        CnnConfig c;
        c.filters.clear();
        const int blocks = pick(s.conv_blocks);
        for (int b = 0; b < blocks; ++b) c.filters.push_back(pick(s.filters));
        c.kernel_size = pick(s.kernel_sizes);
        c.dense_units.clear();
        const int dense = pick(s.dense_layers);
        for (int d = 0; d < dense; ++d) c.dense_units.push_back(pick(s.dense_units));
        c.dropout = pick(s.dropout);
        c.batch_norm = pick(s.batch_norm);
        c.learning_rate = pick(s.learning_rates);
        c.batch_size = pick(s.batch_sizes);
        c.convs_per_block = pick(s.convs_per_block);
        c.block_dropout = pick(s.block_dropout);
        c.dense_batch_norm = pick(s.dense_batch_norm);
        c.batch_norm_momentum = pick(s.batch_norm_momentum);
        return c;
    }

    /// Runs the search on X (N x C*H*W, one image per row), labels 0..classes-1.
    /// Throws invalid_argument for an empty option list, conv blocks that pool the
    /// image below 1 pixel, impossible counts, or bad data.
    SearchResult run(ConstMatrixRef<T> X, ConstLabelsRef y, const Shape& shape, Index classes) const {
        constexpr const char* where = "RandomSearch::run";
        check_space(shape, where);
        if (config_.trials < 1) detail::fail(where, ": trials must be >= 1, got ", config_.trials);
        if (config_.epochs < 1) detail::fail(where, ": epochs must be >= 1, got ", config_.epochs);
        check_fit_input(X, y, where);
        if (X.cols() != shape.size())
            detail::fail(where, ": X has ", X.cols(), " values per sample, shape ", to_string(shape), " needs ", shape.size());
        const SplitIndices parts = stratified_split(y, {.validation = 0.0, .test = config_.validation, .seed = config_.seed});
        if (parts.test.empty()) detail::fail(where, ": validation fraction ", config_.validation, " leaves no validation sample");
        const Matrix<T> X_train = X(parts.train, Eigen::all), X_val = X(parts.test, Eigen::all);
        const Labels y_train = y(parts.train), y_val = y(parts.test);

        SearchResult result;
        for (int t = 0; t < config_.trials; ++t) {
            const auto start = std::chrono::steady_clock::now();
            Trial trial;
            trial.index = t;
            trial.config = draw(t);
            Sequential<T> model = architectures::make_cnn<T>(trial.config, classes);
            const std::uint64_t trial_seed = Random(config_.seed).fork(1'000'000 + static_cast<std::uint64_t>(t)).next();
            model.build(shape, trial_seed);
            model.compile(std::make_unique<Adam<T>>(typename Adam<T>::Config{.learning_rate = trial.config.learning_rate}));
            FitConfig fit;
            fit.epochs = config_.epochs;
            fit.batch_size = trial.config.batch_size;
            fit.seed = trial_seed;
            fit.verbose = config_.verbose >= 2 ? 1 : 0;
            if (config_.verbose >= 2)
                std::cout << "trial " << t + 1 << "/" << config_.trials << ": " << trial.config.describe() << "\n";
            fit.n_threads = config_.n_threads;
            const History h = model.fit(X_train, y_train, fit);
            const Evaluation v = model.evaluate(X_val, y_val);
            trial.val_accuracy = v.accuracy;
            trial.val_loss = v.loss;
            trial.train_accuracy = h.accuracy.back();
            trial.parameters = model.parameter_count();
            trial.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (config_.verbose > 0)
                std::cout << "trial " << t + 1 << "/" << config_.trials << ": " << trial.config.describe()
                          << " -> val_accuracy " << trial.val_accuracy << " (" << trial.seconds << " s)\n";
            result.trials.push_back(std::move(trial));
            const Trial& best = result.trials[result.best_index];
            const Trial& now = result.trials.back();
            if (now.val_accuracy > best.val_accuracy ||
                (now.val_accuracy == best.val_accuracy && now.val_loss < best.val_loss))
                result.best_index = result.trials.size() - 1;
        }
        return result;
    }

private:
    void check_space(const Shape& shape, const char* where) const {
        const SearchSpace& s = config_.space;
        if (s.conv_blocks.empty() || s.filters.empty() || s.kernel_sizes.empty() || s.dense_layers.empty() ||
            s.dense_units.empty() || s.dropout.empty() || s.batch_norm.empty() || s.learning_rates.empty() ||
            s.batch_sizes.empty() || s.convs_per_block.empty() || s.block_dropout.empty() || s.dense_batch_norm.empty() ||
            s.batch_norm_momentum.empty())
            detail::fail(where, ": every list of the search space needs at least one option");
        for (Index k : s.convs_per_block)
            if (k < 1) detail::fail(where, ": convs_per_block option ", k, " must be >= 1");
        for (double d : s.block_dropout)
            if (!(d >= 0.0 && d < 1.0)) detail::fail(where, ": block_dropout option ", d, " outside [0, 1)");
        for (double m : s.batch_norm_momentum)
            if (!(m >= 0.0 && m <= 1.0)) detail::fail(where, ": batch_norm_momentum option ", m, " outside [0, 1]");
        for (double d : s.dropout)
            if (!(d >= 0.0 && d < 1.0)) detail::fail(where, ": dropout option ", d, " outside [0, 1)");
        for (int b : s.conv_blocks) {
            if (b < 0) detail::fail(where, ": conv_blocks option ", b, " is negative");
            if ((shape.height >> b) < 1 || (shape.width >> b) < 1)
                detail::fail(where, ": ", b, " conv blocks (each pooling by 2) do not fit a ", to_string(shape), " input");
        }
        for (int d : s.dense_layers)
            if (d < 0) detail::fail(where, ": dense_layers option ", d, " is negative");
        for (double lr : s.learning_rates)
            if (!(lr > 0)) detail::fail(where, ": learning rate option ", lr, " must be > 0");
        for (Index b : s.batch_sizes)
            if (b < 1) detail::fail(where, ": batch size option ", b, " must be >= 1");
    }

    Config config_{};
};

}  // namespace feral::nn
