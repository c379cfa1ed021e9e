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
// Resuming: with `journal` set to a file path, every finished trial is appended to that
// file (feral::nn::SearchJournal), and trials the file already holds are read back instead
// of trained. So a search that was stopped after some trials continues from there, and a
// search rerun with more trials only trains the new ones; the result is the one an
// uninterrupted search gives. The file also records the seed, space, image shape and a
// checksum of the data, and a journal of any other search is refused, never mixed in or
// overwritten (it cannot tell a journal written by an older feral: start a new one after
// upgrading). The trial in training when the search stopped resumes too: with a journal,
// each trial's fit keeps a training backup beside it ("<journal>.trial-N.backup",
// FitConfig::backup, removed once the journal holds the trial), so a stopped search loses
// at most the epoch it was in.
//
// Progress (verbose >= 1): one line per trial, and after each trained trial an estimate of
// the time the remaining trials need, from their training FLOPs at the rate measured so far;
// verbose >= 2 also prints each trial's training FLOPs per image before the search starts.
//
// Example:
//   feral::nn::RandomSearch<> search({.trials = 10, .epochs = 5, .validation = 0.2, .seed = 1});
//   auto result = search.run(X, y, {1, 48, 48}, 7);
//   std::cout << result.best().config.describe() << " " << result.best().val_accuracy;
//   // the same search, resumable after an interruption:
//   feral::nn::RandomSearch<> resumable({.trials = 10, .epochs = 5, .seed = 1, .journal = "search.journal"});
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"
#include "feral/data/split.hpp"
#include "feral/nn/architectures.hpp"
#include "feral/nn/search_journal.hpp"
#include "feral/nn/training_backup.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
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
    double seconds = 0;      ///< wall-clock seconds of the trial (read from the journal: as recorded there;
                             ///< resumed from its backup: plus the restored epochs' recorded seconds,
                             ///< unless it then diverged; a killed run's unfinished epoch is not counted)
    bool resumed = false;    ///< read back from the journal instead of trained in this run
    bool diverged = false;   ///< training hit a non-finite loss; scored 0, validation loss inf
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
        /// 0 silent; 1 one line per trial (to std::cout) and, after each trained trial, the time
        /// left; 2 also each trial's training FLOPs before the search starts, and its epochs
        int verbose = 0;
        std::string journal{};    ///< file recording finished trials so the search can resume; empty: none
                                  ///< (the trial in training is backed up beside it after every epoch)
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
    /// image below 1 pixel, impossible counts, bad data, or a journal of another search;
    /// format_error for a damaged journal and io_error for one that cannot be written.
    /// A trial whose training diverges (numerical_error) does not stop the search: it is
    /// kept with accuracy 0 and validation loss inf (Trial::diverged).
    SearchResult run(ConstMatrixRef<T> X, ConstLabelsRef y, const Shape& shape, Index classes) const {
        constexpr const char* where = "RandomSearch::run";
        check_space(shape, where);
        if (config_.trials < 1) detail::fail(where, ": trials must be >= 1, got ", config_.trials);
        if (config_.epochs < 1) detail::fail(where, ": epochs must be >= 1, got ", config_.epochs);
        check_fit_input(X, y, where);
        if (X.cols() != shape.size())
            detail::fail(where, ": X has ", X.cols(), " values per sample, shape ", to_string(shape), " needs ", shape.size());
        if (classes < 2) detail::fail(where, ": classes must be >= 2, got ", classes);
        if (y.maxCoeff() >= classes)
            detail::fail(where, ": label ", y.maxCoeff(), " is not below classes = ", classes);
        const SplitIndices parts = stratified_split(y, {.validation = 0.0, .test = config_.validation, .seed = config_.seed});
        if (parts.test.empty()) detail::fail(where, ": validation fraction ", config_.validation, " leaves no validation sample");
        const Matrix<T> X_train = X(parts.train, Eigen::all), X_val = X(parts.test, Eigen::all);
        const Labels y_train = y(parts.train), y_val = y(parts.test);

        std::optional<SearchJournal> journal;
        if (!config_.journal.empty()) journal.emplace(config_.journal, identity(X, y, shape, classes));
        auto from_journal = [&](int t) { return journal && journal->finished().contains(t); };
        // Each trial's network, built once untrained: its size checks a journal's record and
        // its training FLOPs (of all its epochs) give the time estimate. Neither is needed
        // by a silent search without a journal.
        std::vector<double> work(static_cast<std::size_t>(config_.trials));
        std::vector<Index> parameters(static_cast<std::size_t>(config_.trials));
        for (int t = 0; t < config_.trials && (journal || config_.verbose > 0); ++t) {
            Sequential<T> model = architectures::make_cnn<T>(draw(t), classes);
            model.build(shape, 0);
            const double per_image = architectures::training_flops_per_image(model);
            work[t] = per_image * config_.epochs * static_cast<double>(X_train.rows());
            parameters[t] = model.parameter_count();
            if (config_.verbose >= 2) {
                std::ostringstream line;
                line << "plan: trial " << t + 1 << "/" << config_.trials << ": " << std::setprecision(3)
                     << per_image / 1e9 << " training GFLOP per image" << (from_journal(t) ? " (in the journal)" : "");
                std::cout << line.str() << "\n";
            }
        }
        double trained_work = 0, trained_seconds = 0;

        SearchResult result;
        for (int t = 0; t < config_.trials; ++t) {
            Trial trial = from_journal(t) ? resume(journal->finished().at(t), parameters[t], *journal)
                                          : train(t, X_train, y_train, X_val, y_val, shape, classes);
            if (config_.verbose > 0)  // before recording, so a failing write loses no result
                std::cout << "trial " << t + 1 << "/" << config_.trials << ": " << trial.config.describe() << " -> "
                          << (trial.diverged ? "diverged, " : "") << "val_accuracy " << trial.val_accuracy << " ("
                          << (trial.resumed ? "from the journal, " : "") << trial.seconds << " s)" << std::endl;
            if (!trial.resumed) {
                if (journal) journal->record(entry(trial));
                trained_work += work[t];
                trained_seconds += trial.seconds;
            }
            // The trial's backup outlives its fit until the journal line is written, so a kill
            // in between loses nothing; one a kill right after the line left behind is stale.
            if (journal) std::filesystem::remove(trial_backup(t));
            if (config_.verbose > 0) {
                double left = 0;
                int trials_left = 0;
                for (int u = t + 1; u < config_.trials; ++u)
                    if (!from_journal(u)) left += work[u], ++trials_left;
                if (!trial.resumed && trials_left > 0 && trained_work > 0)
                    std::cout << "search: about " << duration_text(left * trained_seconds / trained_work) << " left for "
                              << trials_left << " trial" << (trials_left > 1 ? "s" : "")
                              << " (their training FLOPs at this search's measured rate)\n";
            }
            result.trials.push_back(std::move(trial));
            const Trial& best = result.trials[result.best_index];
            const Trial& now = result.trials.back();
            if (now.val_accuracy > best.val_accuracy ||
                (now.val_accuracy == best.val_accuracy && now.val_loss < best.val_loss))
                result.best_index = result.trials.size() - 1;
        }
        return result;
    }

    /// The training backup of trial t (0-based) while it trains, beside the journal.
    [[nodiscard]] std::filesystem::path trial_backup(int t) const {
        return config_.journal + ".trial-" + std::to_string(t + 1) + ".backup";
    }

    /// The lines that identify this search in a journal: its seed, epochs, validation
    /// fraction, number type and classes, every list of its space, and the data's shape
    /// and checksum (so a journal of the same search on other images is refused).
    [[nodiscard]] SearchJournal::Identity identity(ConstMatrixRef<T> X, ConstLabelsRef y, const Shape& shape,
                                                   Index classes) const {
        SearchJournal::Identity id;
        id.search = detail::message("seed ", config_.seed, ", ", config_.epochs, " epochs per trial, validation ",
                                    exact_text(config_.validation), ", ", classes, " classes, float",
                                    8 * sizeof(T));
        const SearchSpace& s = config_.space;
        id.space = "conv_blocks " + list(s.conv_blocks) + "; filters " + list(s.filters) + "; kernel_sizes " +
                   list(s.kernel_sizes) + "; dense_layers " + list(s.dense_layers) + "; dense_units " +
                   list(s.dense_units) + "; dropout " + list(s.dropout) + "; batch_norm " + list(s.batch_norm) +
                   "; learning_rates " + list(s.learning_rates) + "; batch_sizes " + list(s.batch_sizes) +
                   "; convs_per_block " + list(s.convs_per_block) + "; block_dropout " + list(s.block_dropout) +
                   "; dense_batch_norm " + list(s.dense_batch_norm) + "; batch_norm_momentum " +
                   list(s.batch_norm_momentum);
        id.data = detail::message(X.rows(), " x ", X.cols(), " as ", to_string(shape), ", checksum ",
                                  data_checksum<T>(X, y));
        return id;
    }

private:
    /// Builds trial t's network, trains it `epochs` on the training part and scores it on
    /// the validation part.
    Trial train(int t, const Matrix<T>& X_train, const Labels& y_train, const Matrix<T>& X_val, const Labels& y_val,
                const Shape& shape, Index classes) const {
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
        fit.n_threads = config_.n_threads;
        if (!config_.journal.empty()) {
            fit.backup = trial_backup(t);
            fit.keep_backup = true;  // removed once the journal holds the trial
        }
        if (config_.verbose >= 2)
            std::cout << "trial " << t + 1 << "/" << config_.trials << ": " << trial.config.describe() << "\n";
        trial.parameters = model.parameter_count();
        double restored_seconds = 0;
        try {
            const History h = model.fit(X_train, y_train, fit);
            // Epochs restored from the trial's backup were trained by an earlier run: their
            // recorded time counts too.
            restored_seconds = h.restored_seconds();
            const Evaluation v = model.evaluate(X_val, y_val);
            trial.val_accuracy = v.accuracy;
            trial.val_loss = v.loss;
            trial.train_accuracy = h.accuracy.back();
        } catch (const numerical_error& e) {
            // A configuration that diverges is a result of the search, not a reason to lose
            // the other trials; it scores 0 so it is never the best unless all diverge.
            if (config_.verbose > 0) std::cout << "trial " << t + 1 << " diverged: " << e.what() << "\n";
            // Its last epoch's backup would diverge again when resumed: the journal records
            // the trial as diverged instead.
            if (!fit.backup.empty()) std::filesystem::remove(fit.backup);
            trial.diverged = true;
            trial.val_accuracy = 0;
            trial.val_loss = std::numeric_limits<double>::infinity();
            trial.train_accuracy = 0;
        }
        trial.seconds =
            restored_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return trial;
    }

    /// A trial read back from the journal; its configuration and size must be the ones this
    /// search draws and builds for it (the journal's header matched, so only an edited file,
    /// or one written by a feral that built networks differently, can differ).
    Trial resume(const JournalEntry& e, Index parameters, const SearchJournal& journal) const {
        Trial trial;
        trial.index = e.index;
        trial.config = draw(e.index);
        if (trial.config.describe() != e.config)
            detail::fail("RandomSearch::run: ", journal.path().string(), " records trial ", e.index + 1, " as '",
                         e.config, "', but this search draws '", trial.config.describe(), "' for it");
        if (e.parameters != parameters)
            detail::fail("RandomSearch::run: ", journal.path().string(), " records trial ", e.index + 1, " with ",
                         e.parameters, " parameters, but this search builds it with ", parameters);
        trial.val_accuracy = e.val_accuracy;
        trial.val_loss = e.val_loss;
        trial.train_accuracy = e.train_accuracy;
        trial.parameters = e.parameters;
        trial.seconds = e.seconds;
        trial.resumed = true;
        trial.diverged = std::isinf(e.val_loss);
        return trial;
    }

    static JournalEntry entry(const Trial& t) {
        return {.index = t.index, .val_accuracy = t.val_accuracy, .val_loss = t.val_loss,
                .train_accuracy = t.train_accuracy, .parameters = t.parameters, .seconds = t.seconds,
                .config = t.config.describe()};
    }

    template <class V>
    static std::string list(const std::vector<V>& values) {
        std::string text = "{";
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i > 0) text += ',';
            if constexpr (std::is_same_v<V, bool>)
                text += values[i] ? "true" : "false";
            else if constexpr (std::is_floating_point_v<V>)
                text += exact_text(values[i]);
            else
                text += detail::message(values[i]);
        }
        return text + "}";
    }

    static std::string duration_text(double seconds) {
        std::ostringstream out;
        out << std::fixed << std::setprecision(seconds < 60 ? 0 : 1);
        if (seconds >= 3600)
            out << seconds / 3600 << " h";
        else if (seconds >= 60)
            out << seconds / 60 << " min";
        else
            out << seconds << " s";
        return out.str();
    }

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
