// study5_five_models — Study 5: logistic regression on PCA, a random forest, a dense MLP, a
// CNN, a row-wise LSTM and an improved (augmented) CNN. With --report DIR the improved CNN
// is also saved as DIR/model.feral, the model examples/emotion_photo.cpp uses.
// The study itself reads top to bottom in studies/study5_five_models.hpp.
//
//   study5_five_models                                       # built-in synthetic faces (~2 min)
//   study5_five_models --train fer2013/train --test fer2013/test --report report5
//   emotion_photo --model report5/model.feral --output labelled.png photo.jpg
#include "studies/study5_five_models.hpp"

int main(int argc, char** argv) {
    return study::run_main(argc, argv, "Study 5: five models and an improved CNN (7 classes)", study::run_study5);
}
