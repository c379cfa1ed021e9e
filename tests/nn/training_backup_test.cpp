// Training backups (FitConfig::backup, training_backup.hpp): a fit stopped part-way and
// started again with the same backup ends bit-identical to one that never stopped, and a
// backup that is not this fit's is refused and left as it was.
#include <feral/nn/adam.hpp>
#include <feral/nn/batch_norm.hpp>
#include <feral/nn/callbacks.hpp>
#include <feral/nn/conv2d.hpp>
#include <feral/nn/dense.hpp>
#include <feral/nn/dropout.hpp>
#include <feral/nn/flatten.hpp>
#include <feral/nn/max_pool2d.hpp>
#include <feral/nn/random_search.hpp>
#include <feral/nn/sequential.hpp>
#include <feral/nn/sgd.hpp>

#include <catch2/catch.hpp>

#include "halves_images.hpp"
#include "small_search.hpp"
#include "test_support.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>

using feral::Index;
using feral::Labels;
using feral::Matrix;
using namespace feral::nn;
using feral::test::file_text;

namespace {
// Noisier and lower-contrast than the default, so the epochs keep changing the weights.
void halves(Index n, Matrix<float>& X, Labels& y) {
    feral::test::halves(n, X, y, {.seed = 11, .bright = 0.7, .noise = 0.2});
}

// Every kind of state a backup carries: batch-norm statistics, two dropout streams,
// convolution and dense weights.
Sequential<float> network(Index hidden = 8) {
    Sequential<float> model;
    model.add<Conv2D>({.filters = 4, .kernel_size = 3, .padding = Padding::same, .activation = Activation::relu})
        .add<BatchNorm>()
        .add<MaxPool2D>({.pool_size = 2})
        .add<Dropout>({.rate = 0.3})
        .add<Flatten>()
        .add<Dense>({.units = hidden, .activation = Activation::relu})
        .add<Dropout>({.rate = 0.5})
        .add<Dense>({.units = 2});
    model.build({1, 8, 8}, 1);
    model.compile(std::make_unique<Adam<float>>(Adam<float>::Config{.learning_rate = 1e-2}));
    return model;
}

FitConfig settings(const std::filesystem::path& backup = {}) {
    FitConfig fit;
    fit.epochs = 6;
    fit.batch_size = 16;
    fit.seed = 3;
    fit.validation_split = 0.25;
    fit.class_weight = {1.0, 1.5};
    fit.augment = AugmentConfig{.rotation_range = 10, .horizontal_flip = true};
    fit.verbose = 0;
    fit.backup = backup;
    return fit;
}

struct Interrupted {};

// Stands for the process being killed: throws at the end of epoch `at` (0-based), before
// that epoch's backup is written, or with at_train_end after the last backup, before fit
// removes it. at = -1 and at_train_end false never throw.
struct InterruptAt final : Callback<float> {
    explicit InterruptAt(int epoch, bool train_end = false) : at(epoch), at_train_end(train_end) {}
    void on_epoch_end(const EpochLogs& logs, TrainingControl<float>&) override {
        if (logs.epoch == at) throw Interrupted{};
    }
    void on_train_end(TrainingControl<float>&) override {
        if (at_train_end) throw Interrupted{};
    }
    int at;
    bool at_train_end;
};

// The callbacks of one run: state in each (ReduceLROnPlateau with a min_delta no epoch
// beats halves the rate every epoch after the first).
struct Callbacks {
    explicit Callbacks(int interrupt_at, const std::filesystem::path& checkpoint)
        : stop({.monitor = "val_loss", .patience = 10, .restore_best_weights = true}),
          plateau({.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 10.0}),
          save({.path = checkpoint, .monitor = "val_accuracy"}),
          interrupt(interrupt_at) {}
    std::vector<Callback<float>*> list() { return {&stop, &plateau, &save, &interrupt}; }
    EarlyStopping<float> stop;
    ReduceLROnPlateau<float> plateau;
    ModelCheckpoint<float> save;
    InterruptAt interrupt;
};

void require_same_weights(const Sequential<float>& a, const Sequential<float>& b) {
    const auto wa = a.weights(), wb = b.weights();
    REQUIRE(wa.size() == wb.size());
    for (std::size_t k = 0; k < wa.size(); ++k) {
        INFO("tensor " << k);
        CHECK(wa[k] == wb[k]);  // bit for bit
    }
}

void require_same_history(const History& a, const History& b) {
    CHECK(a.loss == b.loss);
    CHECK(a.accuracy == b.accuracy);
    CHECK(a.val_loss == b.val_loss);
    CHECK(a.val_accuracy == b.val_accuracy);
    CHECK(a.learning_rate == b.learning_rate);
    CHECK(a.stopped_epoch == b.stopped_epoch);
}

/// Fits network() with settings(backup) and callbacks interrupting at `epoch`; expects the interruption.
void fit_until_interrupted(const Matrix<float>& X, const Labels& y, const std::filesystem::path& backup, int epoch,
                           const std::filesystem::path& checkpoint) {
    Sequential<float> model = network();
    Callbacks callbacks(epoch, checkpoint);
    CHECK_THROWS_AS(model.fit(X, y, settings(backup), callbacks.list()), Interrupted);
}
}  // namespace

TEST_CASE("A fit stopped part-way resumes from its backup and ends bit-identical to an uninterrupted fit",
          "[nn][backup]") {
    Matrix<float> X;
    Labels y;
    halves(96, X, y);
    const auto dir = feral::test::scratch_dir("training_backup_resume");
    const auto backup = dir / "fit.backup";

    Sequential<float> whole = network();
    Callbacks whole_callbacks(-1, dir / "whole.feral");
    const History expected = whole.fit(X, y, settings(), whole_callbacks.list());
    REQUIRE(expected.epochs() == 6);
    REQUIRE(whole_callbacks.plateau.reductions() == 5);  // the rate changes every epoch: a restored rate is tested
    CHECK_FALSE(std::filesystem::exists(backup));        // no backup asked, none written

    for (int stopped_at : {1, 3, 5}) {  // killed during epoch 2, 4 or 6
        DYNAMIC_SECTION("interrupted at the end of epoch " << stopped_at + 1) {
            CHECK_FALSE(std::filesystem::exists(backup));
            fit_until_interrupted(X, y, backup, stopped_at, dir / "resumed.feral");
            REQUIRE(std::filesystem::exists(backup));  // holds epochs 1..stopped_at

            // A new process: a new model and new callbacks, the same backup.
            Sequential<float> resumed = network();
            Callbacks callbacks(-1, dir / "resumed.feral");
            const History history = resumed.fit(X, y, settings(backup), callbacks.list());
            require_same_history(history, expected);
            CHECK(history.restored_epochs == stopped_at);
            CHECK(expected.restored_epochs == 0);
            require_same_weights(resumed, whole);
            CHECK(resumed.optimizer().learning_rate() == whole.optimizer().learning_rate());
            CHECK(resumed.optimizer().steps() == whole.optimizer().steps());
            CHECK(callbacks.stop.best_epoch() == whole_callbacks.stop.best_epoch());
            CHECK(callbacks.stop.best_value() == whole_callbacks.stop.best_value());
            CHECK(callbacks.plateau.reductions() == whole_callbacks.plateau.reductions());
            CHECK(callbacks.save.saves() == whole_callbacks.save.saves());
            CHECK(callbacks.save.best_epoch() == whole_callbacks.save.best_epoch());
            CHECK(file_text(dir / "resumed.feral") == file_text(dir / "whole.feral"));  // the same best model saved
            CHECK_FALSE(std::filesystem::exists(backup));  // the finished fit removed it
        }
    }
}

TEST_CASE("A fit resumed twice carries SGD's momentum over and counts every epoch read back", "[nn][backup]") {
    Matrix<float> X;
    Labels y;
    halves(64, X, y);
    const auto dir = feral::test::scratch_dir("training_backup_sgd");
    auto sgd_network = [] {
        Sequential<float> model = network();
        model.compile(std::make_unique<SGD<float>>(SGD<float>::Config{.learning_rate = 0.05, .momentum = 0.9, .nesterov = true}));
        return model;
    };
    FitConfig fit = settings();
    fit.augment.reset();
    fit.epochs = 5;

    Sequential<float> whole = sgd_network();
    InterruptAt never(-1);
    const History expected = whole.fit(X, y, fit, {&never});

    fit.backup = dir / "sgd.backup";
    for (int at : {1, 3}) {  // the first run stops during epoch 2, the second (resumed) during epoch 4
        Sequential<float> model = sgd_network();
        InterruptAt interrupt(at);
        CHECK_THROWS_AS(model.fit(X, y, fit, {&interrupt}), Interrupted);
    }
    Sequential<float> resumed = sgd_network();
    const History history = resumed.fit(X, y, fit, {&never});
    CHECK(history.restored_epochs == 3);
    require_same_history(history, expected);
    require_same_weights(resumed, whole);

    CHECK_FALSE(std::filesystem::exists(fit.backup));
}

TEST_CASE("A fit stopped by a callback, killed before it could remove its backup, stays stopped when resumed",
          "[nn][backup]") {
    Matrix<float> X;
    Labels y;
    halves(64, X, y);
    const auto dir = feral::test::scratch_dir("training_backup_stopped");
    FitConfig fit = settings(dir / "stopped.backup");
    fit.epochs = 8;
    InterruptAt at_end(-1, true);  // killed after the last epoch's backup, before fit removed it
    EarlyStopping<float> stop({.monitor = "loss", .min_delta = 10.0, .patience = 2});  // nothing improves by 10
    Sequential<float> first = network();
    CHECK_THROWS_AS(first.fit(X, y, fit, {&stop, &at_end}), Interrupted);
    REQUIRE(stop.stopped_epoch() == 2);
    REQUIRE(std::filesystem::exists(fit.backup));

    Sequential<float> resumed = network();
    EarlyStopping<float> fresh({.monitor = "loss", .min_delta = 10.0, .patience = 2});
    InterruptAt never(-1);
    const History history = resumed.fit(X, y, fit, {&fresh, &never});
    CHECK(history.stopped_epoch == 2);  // no epoch trained after the stop
    CHECK(history.epochs() == 3);
    CHECK(fresh.stopped_epoch() == 2);
    CHECK(resumed.optimizer().steps() == first.optimizer().steps());
    require_same_weights(resumed, first);
    CHECK_FALSE(std::filesystem::exists(fit.backup));
}

TEST_CASE("keep_backup leaves a finished fit's backup, and a fit handed it trains no more epochs", "[nn][backup]") {
    Matrix<float> X;
    Labels y;
    halves(64, X, y);
    const auto dir = feral::test::scratch_dir("training_backup_kept");
    FitConfig fit = settings(dir / "kept.backup");
    fit.epochs = 3;
    fit.keep_backup = true;  // as a random search does until the trial's journal line is written
    Sequential<float> first = network();
    const History done = first.fit(X, y, fit);
    REQUIRE(std::filesystem::exists(fit.backup));

    Sequential<float> again = network();  // killed after fit, before the caller stored the result
    const History restored = again.fit(X, y, fit);
    require_same_history(restored, done);
    CHECK(restored.restored_epochs == 3);
    CHECK(restored.seconds == done.seconds);  // the first run's recorded times, for a caller to count
    CHECK(restored.restored_seconds() == std::accumulate(done.seconds.begin(), done.seconds.end(), 0.0));
    CHECK(done.restored_seconds() == 0);
    require_same_weights(again, first);
    CHECK(again.optimizer().steps() == first.optimizer().steps());
    CHECK(std::filesystem::exists(fit.backup));
}

TEST_CASE("A fit refuses a backup that is not its own and leaves the file as it was", "[nn][backup]") {
    Matrix<float> X;
    Labels y;
    halves(96, X, y);
    const auto dir = feral::test::scratch_dir("training_backup_refuse");
    const auto backup = dir / "fit.backup";
    fit_until_interrupted(X, y, backup, 2, dir / "best.feral");
    REQUIRE(std::filesystem::exists(backup));
    const std::string bytes = file_text(backup);

    auto refused = [&](Sequential<float> model, const Matrix<float>& data, FitConfig fit, const std::string& differs) {
        INFO(differs);
        Callbacks callbacks(-1, dir / "best.feral");
        CHECK_THROWS_FERAL(model.fit(data, y, fit, callbacks.list()), feral::invalid_argument, differs);
        CHECK_THROWS_WITH(model.fit(data, y, fit, callbacks.list()), Catch::Contains(backup.string()));
        CHECK(file_text(backup) == bytes);
    };
    FitConfig other_seed = settings(backup);
    other_seed.seed = 4;
    refused(network(), X, other_seed, "its seed differs: the backup has '3', this fit '4'");
    FitConfig other_batch = settings(backup);
    other_batch.batch_size = 8;
    refused(network(), X, other_batch, "its batch size differs");
    FitConfig no_augment = settings(backup);
    no_augment.augment.reset();
    refused(network(), X, no_augment, "its augmentation differs");
    refused(network(16), X, settings(backup), "its model differs");
    Sequential<float> other_adam = network();  // the same optimiser kind, another setting
    other_adam.compile(std::make_unique<Adam<float>>(Adam<float>::Config{.learning_rate = 1e-2, .weight_decay = 0.1}));
    refused(std::move(other_adam), X, settings(backup), "its optimiser differs");
    Sequential<float> sgd = network();
    sgd.compile(std::make_unique<SGD<float>>(SGD<float>::Config{.learning_rate = 1e-2}));
    refused(std::move(sgd), X, settings(backup), "its optimiser differs");
    Matrix<float> changed = X;
    changed(5, 17) += 0.5f;
    refused(network(), changed, settings(backup), "its training data differs");
    Matrix<float> changed_validation = X;
    changed_validation(90, 3) += 0.5f;  // in the last quarter: the validation split
    refused(network(), changed_validation, settings(backup), "its validation data differs");
    {
        Sequential<float> model = network();
        FitConfig fit = settings(backup);
        CHECK_THROWS_FERAL(model.fit(X, y, fit), feral::invalid_argument, "its callback list differs");
        CHECK(file_text(backup) == bytes);
        // The same number of callbacks, of other kinds in the same places.
        EarlyStopping<float> a({.patience = 10});
        EarlyStopping<float> b({.patience = 10});
        InterruptAt c(-1), d(-1);
        CHECK_THROWS_FERAL(model.fit(X, y, fit, {&a, &b, &c, &d}), feral::invalid_argument, "its callback list differs");
        CHECK(file_text(backup) == bytes);
        // The same kinds with another setting: EarlyStopping's patience, the checkpoint's path.
        Callbacks other_patience(-1, dir / "best.feral");
        other_patience.stop = EarlyStopping<float>({.monitor = "val_loss", .patience = 9, .restore_best_weights = true});
        CHECK_THROWS_FERAL(model.fit(X, y, fit, other_patience.list()), feral::invalid_argument,
                           "its callback list differs");
        Callbacks other_path(-1, dir / "elsewhere.feral");
        CHECK_THROWS_FERAL(model.fit(X, y, fit, other_path.list()), feral::invalid_argument, "its callback list differs");
        CHECK(file_text(backup) == bytes);
        Callbacks same(-1, dir / "best.feral");  // the check above is not refusing everything
        CHECK(model.fit(X, y, fit, same.list()).epochs() == 6);
        CHECK_FALSE(std::filesystem::exists(backup));
        std::ofstream(backup, std::ios::binary) << bytes;
    }
    {
        Sequential<float> model = network();
        const auto untouched = model.weights();
        FitConfig fewer_epochs = settings(backup);
        fewer_epochs.epochs = 1;
        Callbacks callbacks(-1, dir / "best.feral");
        CHECK_THROWS_FERAL(model.fit(X, y, fewer_epochs, callbacks.list()), feral::invalid_argument,
                           "holds 2 epochs, more than the 1 this fit asks for");
        CHECK(model.weights() == untouched);
        CHECK(file_text(backup) == bytes);
    }

    // Not a backup at all: a saved model is refused by its type, a damaged backup by its checksum.
    const auto model_file = dir / "model.feral";
    network().save(model_file);
    const std::string model_bytes = file_text(model_file);
    {
        Sequential<float> model = network();
        Callbacks callbacks(-1, dir / "best.feral");
        CHECK_THROWS_FERAL(model.fit(X, y, settings(model_file), callbacks.list()), feral::format_error,
                           model_file.string());
        CHECK(file_text(model_file) == model_bytes);
    }
    std::string damaged = bytes;
    damaged[damaged.size() / 2] ^= 0x20;
    std::ofstream(backup, std::ios::binary | std::ios::trunc) << damaged;
    {
        Sequential<float> model = network();
        Callbacks callbacks(-1, dir / "best.feral");
        CHECK_THROWS_FERAL(model.fit(X, y, settings(backup), callbacks.list()), feral::format_error, "checksum");
        CHECK(file_text(backup) == damaged);
    }
}

namespace {
// A callback that reads its counter, then refuses a state whose mark is not its own, as one
// would refuse damaged bytes half-way through reading them.
struct PickyState final : Callback<float> {
    explicit PickyState(int own_mark) : mark(own_mark) {}
    void on_epoch_end(const EpochLogs&, TrainingControl<float>&) override { ++counter; }
    void save_state(feral::ByteWriter& out) const override {
        out.write<std::int32_t>(counter);
        out.write<std::int32_t>(mark);
    }
    void load_state(feral::ByteReader& in) override {
        counter = in.read<std::int32_t>();
        if (const auto saved = in.read<std::int32_t>(); saved != mark)
            feral::detail::fail<feral::format_error>(in.source(), ": refused mark ", saved);
    }
    int mark;
    int counter = 0;
};
}  // namespace

TEST_CASE("A callback refusing its saved state leaves the model, the optimiser and the other callbacks as they were",
          "[nn][backup]") {
    Matrix<float> X;
    Labels y;
    halves(64, X, y);
    const auto dir = feral::test::scratch_dir("training_backup_callback_refuses");
    FitConfig fit = settings(dir / "picky.backup");
    fit.epochs = 4;
    {
        Sequential<float> first = network();
        EarlyStopping<float> stop({.monitor = "loss", .patience = 10});
        PickyState picky(7);
        InterruptAt at_two(1);  // the backup holds epoch 1
        CHECK_THROWS_AS(first.fit(X, y, fit, {&stop, &picky, &at_two}), Interrupted);
    }
    const std::string bytes = file_text(fit.backup);

    Sequential<float> model = network();
    const auto untouched = model.weights();
    EarlyStopping<float> stop({.monitor = "loss", .patience = 10});
    PickyState picky(8);
    InterruptAt never(-1);
    CHECK_THROWS_FERAL(model.fit(X, y, fit, {&stop, &picky, &never}), feral::format_error,
                       "(callback 2): refused mark 7");
    CHECK(model.weights() == untouched);
    CHECK(model.optimizer().steps() == 0);
    CHECK(stop.best_epoch() == -1);  // its state was loaded before picky refused, then put back
    CHECK(picky.counter == 0);       // picky had read its saved counter (1) before refusing: put back too
    CHECK(file_text(fit.backup) == bytes);

    picky.mark = 7;  // the same backup, accepted: the state restored is the saved one
    CHECK(model.fit(X, y, fit, {&stop, &picky, &never}).restored_epochs == 1);
    CHECK(stop.best_epoch() >= 0);
    CHECK(picky.counter == 4);
}

TEST_CASE("An optimiser's state loads only into the same kind of optimiser for the same parameters",
          "[nn][backup]") {
    Matrix<float> value = Matrix<float>::Ones(2, 3), gradient = Matrix<float>::Constant(2, 3, 0.5f);
    std::vector<Parameter<float>> parameters{{"kernel", &value, &gradient}};
    Adam<float> adam;
    adam.step(parameters);
    adam.set_learning_rate(0.25);
    feral::ByteWriter w;
    adam.save_state(w);

    Adam<float> copy;
    feral::ByteReader r(w.bytes().data(), w.bytes().size(), "state.bin");
    copy.load_state(r, parameters);
    CHECK(copy.learning_rate() == 0.25);
    CHECK(copy.steps() == 1);
    CHECK(copy.first_moment(0) == adam.first_moment(0));
    CHECK(copy.second_moment(0) == adam.second_moment(0));

    auto reader = [&] { return feral::ByteReader(w.bytes().data(), w.bytes().size(), "state.bin"); };
    SGD<float> sgd;
    CHECK_THROWS_FERAL(sgd.load_state(*std::make_unique<feral::ByteReader>(reader()), parameters), feral::format_error,
                       "state.bin: holds Adam state, this optimiser is SGD");
    Matrix<float> other = Matrix<float>::Ones(3, 2), other_gradient = Matrix<float>::Zero(3, 2);
    std::vector<Parameter<float>> other_parameters{{"bias", &other, &other_gradient}};
    CHECK_THROWS_FERAL(copy.load_state(*std::make_unique<feral::ByteReader>(reader()), other_parameters),
                       feral::format_error, "parameter 'bias' is 3 x 2");
    CHECK(copy.learning_rate() == 0.25);  // unchanged by the refused state
    CHECK(copy.first_moment(0) == adam.first_moment(0));

    feral::ByteWriter stepped_without_state;  // steps taken, yet no moments: not a state Adam writes
    stepped_without_state.write_string("Adam");
    stepped_without_state.write<double>(0.001);
    stepped_without_state.write<std::int64_t>(5);
    stepped_without_state.write_matrices(std::vector<Matrix<float>>{});
    auto read_inconsistent = [&] {
        feral::ByteReader in(stepped_without_state.bytes().data(), stepped_without_state.bytes().size(), "state.bin");
        return copy.read_state(in, parameters);
    };
    CHECK_THROWS_FERAL(read_inconsistent(), feral::format_error, "corrupt Adam state (5 steps, 0 tensors)");
}

TEST_CASE("A random search with a journal backs up the trial in training beside it", "[nn][backup][random_search]") {
    Matrix<float> X;
    Labels y;
    halves(80, X, y);
    const auto dir = feral::test::scratch_dir("training_backup_search");
    RandomSearch<float>::Config config = feral::test::small_search(2);
    config.epochs = 2;  // a backup after epoch 1, read back by epoch 2
    config.journal = (dir / "search.journal").string();
    const RandomSearch<float> search(config);
    CHECK(search.trial_backup(1) == dir / "search.journal.trial-2.backup");

    // Whatever sits where trial 1's backup goes is read as its backup: another file is
    // refused, and left as it was.
    std::ofstream(search.trial_backup(0)) << "not a backup\n";
    CHECK_THROWS_FERAL(search.run(X, y, {1, 8, 8}, 2), feral::format_error, search.trial_backup(0).string());
    CHECK(file_text(search.trial_backup(0)) == "not a backup\n");
    std::filesystem::remove(search.trial_backup(0));
    std::filesystem::remove(config.journal);

    const SearchResult result = search.run(X, y, {1, 8, 8}, 2);
    CHECK(result.trials.size() == 2);
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        INFO(entry.path().string());
        CHECK(entry.path().filename() == "search.journal");  // every trial's backup was removed when it ended
        ++files;
    }
    CHECK(files == 1);
}
