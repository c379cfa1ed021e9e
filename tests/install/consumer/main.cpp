// A user's program built against the installed feral package.
#include <feral/core/random.hpp>
#include <feral/core/types.hpp>

#include <iostream>

int main() {
    feral::Random rng(1);
    feral::Matrix<float> x(2, 3);
    for (feral::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform());
    std::cout << "consumer built against installed feral: sum " << x.sum() << "\n";
    return x.allFinite() ? 0 : 1;
}
