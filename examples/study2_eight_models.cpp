// examples/study2_eight_models.cpp — Study 2: eight classifiers on seven FER2013 expressions,
// scored on a test set carved from the training data and on the official test split.
// The study itself is in studies/study2_eight_models.hpp.
#include "studies/study2_eight_models.hpp"

int main(int argc, char** argv) {
    return study::run_main(argc, argv, "Study 2: eight models on seven expressions (carved and official test)",
                           study::run_study2);
}
