// examples/study1_three_models.cpp — Study 1: CNN, HOG + random forest and mini-batch k-means
// on six FER2013 expressions. The study itself is in studies/study1_three_models.hpp.
#include "studies/study1_three_models.hpp"

int main(int argc, char** argv) {
    return study::run_main(argc, argv, "Study 1: three models (CNN, HOG + random forest, mini-batch k-means), 6 classes",
                           study::run_study1);
}
