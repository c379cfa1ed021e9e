// study3_tuned_cnn — Study 3: a deep CNN (blocks of two convolutions with batch norm and
// dropout) whose shape is chosen by a random search on a validation split, then trained
// longer and tested, with scikit-learn's classification report.
// The study itself reads top to bottom in studies/study3_tuned_cnn.hpp.
//
//   study3_tuned_cnn                                         # built-in synthetic faces (~2 min)
//   study3_tuned_cnn --train fer2013/train --test fer2013/test --report report3   # hours on 2 cores
#include "studies/study3_tuned_cnn.hpp"

int main(int argc, char** argv) {
    return study::run_main(argc, argv, "Study 3: tuned deep CNN (random search, 7 classes)", study::run_study3);
}
