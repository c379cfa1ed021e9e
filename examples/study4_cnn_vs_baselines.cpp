// study4_cnn_vs_baselines — Study 4: a small CNN (early stopping, balanced class weights)
// against logistic regression, a grid-searched random forest and Gaussian naive Bayes.
// The study itself reads top to bottom in studies/study4_cnn_vs_baselines.hpp.
//
//   study4_cnn_vs_baselines                                  # built-in synthetic faces (~2 min)
//   study4_cnn_vs_baselines --train fer2013/train --test fer2013/test --report report4
#include "studies/study4_cnn_vs_baselines.hpp"

int main(int argc, char** argv) {
    return study::run_main(argc, argv, "Study 4: CNN against baselines (7 classes, validation set)", study::run_study4);
}
