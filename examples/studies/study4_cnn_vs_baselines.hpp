// examples/studies/study4_cnn_vs_baselines.hpp — Study 4: a small CNN against three
// classical baselines on the seven FER2013 classes, with a validation set.
//
// The published study (7 classes, a validation set carved from the training data):
//   CNN                 Conv(64, 3x3, same)+ReLU, MaxPool 2, Dropout 0.2,
//                       Conv(64, 3x3, same)+ReLU, MaxPool 2, Flatten, Dense(128)+ReLU,
//                       Dense(7) softmax; Adam (1e-3), batch 100, 'balanced' class weights,
//                       EarlyStopping on the validation loss, patience 3, best weights
//                       restored                                           published 52-53%
//   LogisticRegression  scikit-learn's defaults on the pixels              published 38.3%
//   RandomForest        4-fold GridSearchCV over max_depth {5, 10} x
//                       n_estimators {10, 100}                             published 40.2%
//   GaussianNB                                                             published 22.7%
//   VGG16 fine-tuned from ImageNet weights                                 published 42%
//     (not reproduced: feral cannot ship pretrained ImageNet weights; see the note below)
//
// Steps: 1. load the data; 2. carve a stratified 10% validation set from the training
// images; 3. scale pixels to [0, 1]; 4. train the CNN with early stopping on the
// validation loss (the validation set chooses the epoch, the test set is only scored),
// and once more without class weights (an ablation, not in the study: it measures what
// the weights cost); 5. fit the three baselines on the same training part; 6. score
// everything on the test set.
//
// Modes: with --train/--test or --csv, as published (the CNN may run up to 50 epochs;
// early stopping decides). On the built-in synthetic faces (no arguments: 300 training
// faces per class) the CNN runs at most 8 epochs, --quick at most 3 epochs on half the
// faces, and the forest grid tries fewer trees — the study says so in its notes.
#pragma once

#include "study_common.hpp"

#include <feral/data/class_weights.hpp>
#include <feral/data/split.hpp>
#include <feral/data/transforms.hpp>
#include <feral/models/gaussian_nb.hpp>
#include <feral/models/grid_search.hpp>
#include <feral/models/logistic_regression.hpp>
#include <feral/models/random_forest.hpp>
#include <feral/nn/adam.hpp>
#include <feral/nn/callbacks.hpp>
#include <feral/nn/conv2d.hpp>
#include <feral/nn/dense.hpp>
#include <feral/nn/dropout.hpp>
#include <feral/nn/flatten.hpp>
#include <feral/nn/max_pool2d.hpp>
#include <feral/nn/sequential.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace study {

inline Study run_study4(const Options& options) {
    using namespace feral::nn;

    // ---- 1. data ------------------------------------------------------------------
    // Synthetic mode: 300 training and 100 test faces per class (--quick: half that), small
    // enough for the CNN to train a few epochs on 2 cores in about a minute.
    const Data data = load_data(options, {.train_per_class = 300, .test_per_class = 100});
    const Index classes = data.train.num_classes();
    Study study(4, "CNN against baselines (7 classes, validation set)", data.train.class_names);
    study.set_beside_published(!options.synthetic());
    study.note("Data: " + data.description + ".");

    // ---- 2. a stratified validation set carved from the training images ------------
    // It chooses the CNN's epoch (early stopping) and is reported for every model; the
    // test images are never used for any choice.
    const auto parts = feral::split_dataset(data.train, {.validation = 0.1, .test = 0.0, .seed = options.seed});
    const feral::Dataset& train = parts.train;
    const feral::Dataset& validation = parts.validation;
    std::cout << "train " << train.size() << ", validation " << validation.size() << ", test " << data.test.size()
              << " images\n";

    // ---- 3. pixels / 255 for every model -------------------------------------------
    const Matrix<float> X_train = feral::to_float(train), X_val = feral::to_float(validation),
                        X_test = feral::to_float(data.test);
    const Labels &y_train = train.labels, &y_val = validation.labels, &y_test = data.test.labels;

    // How much this run does, by mode (the synthetic modes shrink it to stay fast).
    const bool full = !options.synthetic();
    const int max_epochs = full ? 50 : (options.quick ? 3 : 8);
    const std::vector<int> forest_sizes = full ? std::vector<int>{10, 100} : std::vector<int>{10, options.quick ? 30 : 50};
    if (!full) {
        study.note("Synthetic mode: the CNN trains for at most " + std::to_string(max_epochs) +
                   " epochs (published: until early stopping) and the forest grid tries n_estimators {10, " +
                   std::to_string(forest_sizes[1]) + "} instead of {10, 100}, to finish in " +
                   (options.quick ? "well under a minute." : "about two minutes."));
    }

    // Each model states what we know of why it may fall short of the published figure
    // (shortfall_reason); on FER2013, Study::add adds by how much it does.

    // ---- 4. the CNN, early-stopped on the validation loss ---------------------------
    // Trained twice: as published (balanced class weights), and once more without the
    // weights — not part of the study, an ablation that measures what the weights cost.
    auto train_cnn = [&](bool class_weights) {
        std::cout << "CNN (Conv64-Pool-Dropout-Conv64-Pool-Dense128), batch 100, "
                  << (class_weights ? "balanced class weights" : "no class weights (ablation)") << "\n";
        Sequential<> cnn;
        cnn.add<Conv2D>({.filters = 64, .kernel_size = 3, .padding = Padding::same, .activation = Activation::relu})
            .add<MaxPool2D>({.pool_size = 2})
            .add<Dropout>({.rate = 0.2})
            .add<Conv2D>({.filters = 64, .kernel_size = 3, .padding = Padding::same, .activation = Activation::relu})
            .add<MaxPool2D>({.pool_size = 2})
            .add<Flatten>()
            .add<Dense>({.units = 128, .activation = Activation::relu})
            .add<Dense>({.units = classes});
        cnn.build({1, train.shape.height, train.shape.width}, options.seed);
        cnn.compile(std::make_unique<Adam<>>(Adam<>::Config{.learning_rate = 1e-3}));
        if (class_weights) std::cout << cnn.summary();

        // 'balanced' weights: every class carries the same total weight in the loss, so the
        // rare classes (FER2013's disgust is 16 times rarer than happy) are not ignored.
        FitConfig fit;
        fit.epochs = max_epochs;
        fit.batch_size = 100;
        fit.seed = options.seed;
        if (class_weights) fit.class_weight = feral::balanced_class_weights(y_train, classes);
        fit.verbose = 1;
        fit.n_threads = options.threads;
        EarlyStopping<> stop({.monitor = "val_loss", .patience = 3, .restore_best_weights = true});

        ModelResult r;
        r.name = class_weights ? "CNN (early stopping)" : "CNN without class weights (ablation)";
        if (class_weights) r.published = 0.525;
        Stopwatch fit_clock;
        const History history = cnn.fit(X_train, y_train, X_val, y_val, fit, {&stop});
        r.fit_seconds = fit_clock.seconds();
        Stopwatch predict_clock;
        const Labels predicted = cnn.predict(X_test);
        r.predict_seconds = predict_clock.seconds();
        score(r, y_test, predicted, classes);
        r.train_accuracy = cnn.evaluate(X_train, y_train).accuracy;
        r.validation_accuracy = cnn.evaluate(X_val, y_val).accuracy;
        r.history = epoch_records(history);
        // Keras's rule: the best weights come back only when early stopping fires; a run
        // that uses up its epochs keeps the last epoch's weights.
        r.note = std::string(class_weights ? "published 52-53%; " : "not in the published study: the same network, split and seed without class weights; ") +
                 (stop.stopped_epoch() >= 0
                      ? "stopped after epoch " + std::to_string(stop.stopped_epoch() + 1) + ", weights of the best epoch (" +
                            std::to_string(stop.best_epoch() + 1) + ") restored"
                      : "ran all " + std::to_string(history.epochs()) + " epochs (best validation loss at epoch " +
                            std::to_string(stop.best_epoch() + 1) + ")");
        std::cout << "  CNN: best epoch " << stop.best_epoch() + 1 << ", test accuracy " << percent(r.accuracy) << "\n";
        return r;
    };
    ModelResult cnn = train_cnn(true);
    ModelResult ablation = train_cnn(false);
    // What the ablation measured is the part of a shortfall we can explain: balanced weights
    // move predictions towards the rare classes, which costs accuracy on FER2013's skewed test.
    // Measured beside PyTorch (benchmarks/RESULTS.md): the same network and recipe reach the
    // same test accuracy there, within the seed-to-seed spread, so the rest is not put down
    // to feral's layers or optimiser.
    const double weight_cost = 100.0 * (ablation.accuracy - cnn.accuracy);
    char cost[80];
    std::snprintf(cost, sizeof cost, ", so the balanced class weights cost %.1f points here", weight_cost);
    cnn.shortfall_reason = "the layers, optimiser, batch, class weights and stopping rule are the study's; without the "
                           "weights the same network reaches " + percent(ablation.accuracy) +
                           (weight_cost > 0 ? std::string(cost) : std::string(", so the weights are not the cause")) +
                           (ablation.accuracy < cnn.published
                                ? "; nor is it feral's trainer: on the full FER2013 training folder, PyTorch given the "
                                  "same network and recipe (and a stratified 10% validation carve of its own) is no "
                                  "closer: over four seeds each, the two means differ by less than the seed-to-seed "
                                  "spread (benchmarks/RESULTS.md). The rest is not established (the study's split and "
                                  "seed are not published)"
                                : "");
    study.add(std::move(cnn));
    study.add(std::move(ablation));

    // ---- 5. the baselines, fitted on the same training part ---------------------------
    // Each is scored on train, validation and test like the CNN.
    auto add_baseline = [&](ModelResult r, const auto& model) {
        r.train_accuracy = model.score(X_train, y_train);
        r.validation_accuracy = model.score(X_val, y_val);
        study.add(std::move(r));
    };

    {   // Logistic regression with scikit-learn's defaults (L2, C = 1, lbfgs, 100 iterations).
        feral::LogisticRegression<> model({.n_threads = options.threads});
        ModelResult r = evaluate("Logistic regression", model, X_train, y_train, X_test, y_test, classes, 0.383);
        r.shortfall_reason = "scikit-learn's default of 100 lbfgs iterations stops before convergence on 2,304 pixels, and "
                             "where an unconverged solver stops differs between implementations and data splits";
        add_baseline(std::move(r), model);
    }

    {   // Random forest: 4-fold cross-validated grid over depth and size, best refitted on all of train.
        using Forest = feral::RandomForestClassifier<>;
        const feral::ParamGrid grid{{"max_depth", {5, 10}}, {"n_estimators", {forest_sizes[0], forest_sizes[1]}}};
        const std::uint64_t seed = options.seed;
        feral::GridSearchCV search(
            [seed](const feral::Params& p) {
                return Forest({.n_estimators = p.get<Index>("n_estimators"), .max_depth = p.get<Index>("max_depth"),
                               .random_state = seed});
            },
            grid, {.n_splits = 4, .n_threads = options.threads});
        ModelResult r = evaluate("Random forest (grid search)", search, X_train, y_train, X_test, y_test, classes, 0.402);
        r.note = "best of 4-fold CV: " + search.best_params().to_string() + ", CV accuracy " + percent(search.best_score());
        std::cout << "  " << r.note << "\n";
        r.shortfall_reason = "one seed of a randomised model; the study's split and seed differ";
        add_baseline(std::move(r), search);
    }

    {   // Gaussian naive Bayes: independent normal pixels per class — the weakest assumption here.
        feral::GaussianNB<> model({.n_threads = options.threads});
        ModelResult r = evaluate("Gaussian naive Bayes", model, X_train, y_train, X_test, y_test, classes, 0.227);
        r.shortfall_reason = "the study trained on its own split of the training data";
        add_baseline(std::move(r), model);
    }

    // ---- 6. what is not reproduced, and the report's sample faces ----------------------
    study.note("Not reproduced: the published study also fine-tuned VGG16 from ImageNet weights (42% test accuracy). "
               "Pretrained ImageNet weights cannot be shipped with feral (their size and licence), and training VGG16 "
               "from scratch on 2 CPU cores is out of reach, so that row is left out.");
    study.note("Validation: a stratified 10% of the training images (seed " + std::to_string(options.seed) +
               "); it decides the CNN's early stopping. The test images are only scored.");
    if (!full) study.note("Published figures are for FER2013; on the synthetic faces they are only a reference.");
    study.samples(data.test);
    return study;
}

}  // namespace study
