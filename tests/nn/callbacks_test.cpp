#include <feral/nn/callbacks.hpp>
#include <feral/nn/dense.hpp>
#include <feral/nn/flatten.hpp>
#include <feral/nn/sequential.hpp>

#include <catch2/catch.hpp>

#include "test_support.hpp"

using feral::Index;
using feral::Labels;
using feral::Matrix;
using namespace feral::nn;

namespace {
// A stand-in for the model: one 1x1 "weight" that records the epoch it was set in.
struct FakeModel final : TrainingControl<float> {
    Matrix<float> weight = Matrix<float>::Zero(1, 1);
    double lr = 0.1;
    bool stopped = false;
    int saves = 0;
    std::vector<Matrix<float>> weights() const override { return {weight}; }
    void set_weights(const std::vector<Matrix<float>>& w) override { weight = w.at(0); }
    void save_model(const std::filesystem::path&) override { ++saves; }
    double learning_rate() const override { return lr; }
    void set_learning_rate(double v) override { lr = v; }
    void stop_training() override { stopped = true; }
};

EpochLogs logs_with_val_loss(int epoch, double val_loss) {
    EpochLogs logs;
    logs.epoch = epoch;
    logs.val_loss = val_loss;
    logs.val_accuracy = 1.0 - val_loss;
    logs.has_validation = true;
    return logs;
}
}  // namespace

TEST_CASE("EarlyStopping stops after `patience` epochs without improvement and restores the best weights",
          "[nn][callbacks]") {
    EarlyStopping<float> stop({.monitor = "val_loss", .min_delta = 0.01, .patience = 2, .restore_best_weights = true});
    FakeModel model;
    stop.on_train_begin(model);
    const double val_loss[] = {1.0, 0.8, 0.795, 0.9, 0.7};  // best at epoch 1; 0.795 is within min_delta
    int epoch = 0;
    for (; epoch < 5 && !model.stopped; ++epoch) {
        model.weight(0, 0) = static_cast<float>(epoch);  // "training" changes the weights every epoch
        stop.on_epoch_end(logs_with_val_loss(epoch, val_loss[epoch]), model);
    }
    CHECK(model.stopped);
    CHECK(epoch == 4);  // epochs 2 and 3 did not improve: stopped at the end of epoch 3
    CHECK(stop.stopped_epoch() == 3);
    CHECK(stop.best_epoch() == 1);
    CHECK(stop.best_value() == 0.8);
    CHECK(model.weight(0, 0) == 1.0f);  // the weights of epoch 1
}

TEST_CASE("EarlyStopping on an accuracy waits for an increase", "[nn][callbacks]") {
    EarlyStopping<float> stop({.monitor = "val_accuracy", .patience = 1});
    FakeModel model;
    stop.on_train_begin(model);
    stop.on_epoch_end(logs_with_val_loss(0, 0.5), model);  // accuracy 0.5
    stop.on_epoch_end(logs_with_val_loss(1, 0.4), model);  // 0.6: better
    CHECK_FALSE(model.stopped);
    stop.on_epoch_end(logs_with_val_loss(2, 0.45), model);  // 0.55: worse
    CHECK(model.stopped);
    CHECK(model.weight(0, 0) == 0.0f);  // restore_best_weights is off: untouched
}

TEST_CASE("ReduceLROnPlateau multiplies the learning rate by factor after patience, not below min_lr",
          "[nn][callbacks]") {
    ReduceLROnPlateau<float> plateau({.factor = 0.5, .patience = 2, .min_lr = 0.03});
    FakeModel model;
    plateau.on_train_begin(model);
    const double val_loss[] = {1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94, 0.96};
    std::vector<double> lr;
    for (int e = 0; e < 8; ++e) {
        plateau.on_epoch_end(logs_with_val_loss(e, val_loss[e]), model);
        lr.push_back(model.lr);
    }
    // No improvement after epoch 1: the rate halves at epochs 3 and 5, then stops at min_lr.
    CHECK(lr == std::vector<double>{0.1, 0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03});
    CHECK(plateau.reductions() == 2);
}

TEST_CASE("ModelCheckpoint with save_best_only saves only on improvement", "[nn][callbacks]") {
    ModelCheckpoint<float> checkpoint({.path = "unused.feral", .monitor = "val_loss", .save_best_only = true});
    FakeModel model;
    checkpoint.on_train_begin(model);
    for (int e = 0; e < 4; ++e) checkpoint.on_epoch_end(logs_with_val_loss(e, e == 2 ? 0.5 : 1.0 - 0.1 * e), model);
    CHECK(model.saves == 3);  // epochs 0, 1, 2 improve; epoch 3 (0.7) does not
    CHECK(checkpoint.best_epoch() == 2);
}

TEST_CASE("callbacks reject unknown monitors and monitors that need missing validation data", "[nn][callbacks]") {
    CHECK_THROWS_WITH(EarlyStopping<float>({.monitor = "val_acc"}), Catch::Contains("val_acc"));
    CHECK_THROWS_WITH(ReduceLROnPlateau<float>({.factor = 1.0}), Catch::Contains("factor"));
    CHECK_THROWS_AS(ModelCheckpoint<float>({}), feral::invalid_argument);
    EarlyStopping<float> stop;
    FakeModel model;
    stop.on_train_begin(model);
    EpochLogs no_validation;
    CHECK_THROWS_WITH(stop.on_epoch_end(no_validation, model), Catch::Contains("validation"));
}

TEST_CASE("callbacks drive a real fit: early stopping ends it, the plateau lowers the rate, the checkpoint loads",
          "[nn][callbacks]") {
    feral::Random rng(2);
    Matrix<float> X(200, 4);
    Labels y(200);
    for (Index i = 0; i < 200; ++i) {
        y[i] = static_cast<int>(i % 2);
        for (Index j = 0; j < 4; ++j) X(i, j) = static_cast<float>(rng.normal());  // labels are noise: no progress
    }
    Sequential<float> model;
    model.add<Flatten>().add<Dense>({.units = 32, .activation = Activation::relu}).add<Dense>({.units = 2});
    model.build({1, 2, 2}, 1);
    model.compile(std::make_unique<Adam<float>>(Adam<float>::Config{.learning_rate = 0.05}));
    const auto dir = feral::test::scratch_dir("nn_callbacks_fit");
    EarlyStopping<float> stop({.patience = 3, .restore_best_weights = true});
    ReduceLROnPlateau<float> plateau({.factor = 0.5, .patience = 1});
    ModelCheckpoint<float> checkpoint({.path = dir / "best.feral"});
    const History h =
        model.fit(X, y, {.epochs = 40, .batch_size = 20, .validation_split = 0.3, .verbose = 0}, {&stop, &plateau, &checkpoint});
    CHECK(h.epochs() < 40);
    CHECK(h.stopped_epoch == h.epochs() - 1);
    CHECK(h.learning_rate.back() < 0.05);
    CHECK(plateau.reductions() >= 1);
    // Restored weights = the best epoch's = the checkpoint's.
    const auto best = Sequential<float>::load(dir / "best.feral");
    const Matrix<float> X_val = X.bottomRows(60);
    CHECK(best.predict_proba(X_val) == model.predict_proba(X_val));
    const auto best_epoch = static_cast<std::size_t>(stop.best_epoch());
    CHECK(model.evaluate(X_val, y.tail(60)).loss == Approx(h.val_loss[best_epoch]).epsilon(1e-6));
}
