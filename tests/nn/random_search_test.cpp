#include <feral/nn/architectures.hpp>
#include <feral/nn/random_search.hpp>

#include <catch2/catch.hpp>

#include "halves_images.hpp"
#include "small_search.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

using feral::Index;
using feral::Labels;
using feral::Matrix;
using namespace feral::nn;

using feral::test::file_text;
using feral::test::halves;
using feral::test::small_search;

TEST_CASE("The named architectures build for 48x48 faces with the expected sizes", "[nn][random_search]") {
    for (const auto& name : architectures::names()) {
        auto a = architectures::make<float>(name);
        INFO(name);
        CHECK(a.model.build({1, 48, 48}, 0) == Shape{7, 1, 1});
        CHECK(a.model.parameter_count() > 0);
    }
    auto small = architectures::make<float>("small");
    small.model.build({1, 48, 48}, 0);
    // Keras: conv 320 + conv 18496 + dense 6400*7+7 (48 -> 46 -> 23 -> 21 -> 10).
    CHECK(small.model.parameter_count() == 320 + 18496 + 44807);
    CHECK(architectures::forward_macs(small.model) == 46.0 * 46 * 32 * 9 + 21.0 * 21 * 64 * 32 * 9 + 6400.0 * 7);
    CHECK(small.batch_size == 32);
    auto deep = architectures::make<float>("deep");
    CHECK(deep.batch_size == 256);
    CHECK(deep.learning_rate == 5e-4);
    CHECK(architectures::make<float>("wide").augment.has_value());
    CHECK_THROWS_WITH(architectures::make<float>("huge"), Catch::Contains("'huge'") && Catch::Contains("lstm"));
}

TEST_CASE("Random search is reproducible, stays in its space and returns the best validation trial",
          "[nn][random_search]") {
    Matrix<float> X;
    Labels y;
    halves(80, X, y);
    RandomSearch<float>::Config config;
    config.trials = 3;
    config.epochs = 1;
    config.validation = 0.25;
    config.seed = 4;
    config.space.conv_blocks = {1, 2};
    config.space.filters = {4, 8};
    config.space.kernel_sizes = {3};
    config.space.dense_layers = {0, 1};
    config.space.dense_units = {8, 16};
    config.space.learning_rates = {1e-2, 3e-3};
    config.space.batch_sizes = {16};
    const RandomSearch<float> search(config);
    const SearchResult first = search.run(X, y, {1, 8, 8}, 2);
    const SearchResult second = search.run(X, y, {1, 8, 8}, 2);
    REQUIRE(first.trials.size() == 3);
    for (std::size_t t = 0; t < 3; ++t) {
        const auto& trial = first.trials[t];
        CHECK(trial.config.describe() == second.trials[t].config.describe());
        CHECK(trial.val_accuracy == second.trials[t].val_accuracy);
        CHECK(trial.config.filters.size() >= 1);
        CHECK(trial.config.filters.size() <= 2);
        for (Index f : trial.config.filters) CHECK((f == 4 || f == 8));
        CHECK(trial.config.batch_size == 16);
        CHECK(trial.val_accuracy <= first.best().val_accuracy);
    }
    CHECK(first.best().val_accuracy > 0.8);  // the halves are easy to tell apart
    CHECK(search.draw(1).describe() == first.trials[1].config.describe());
}

TEST_CASE("Random search rejects spaces that cannot be built", "[nn][random_search]") {
    Matrix<float> X;
    Labels y;
    halves(40, X, y);
    RandomSearch<float>::Config config;
    config.space.conv_blocks = {4};  // 8 -> 4 -> 2 -> 1 -> 0
    CHECK_THROWS_WITH(RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2), Catch::Contains("4 conv blocks"));
    config.space.conv_blocks = {1};
    config.space.filters.clear();
    CHECK_THROWS_WITH(RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2), Catch::Contains("at least one option"));
    config.space = {};
    config.trials = 0;
    CHECK_THROWS_WITH(RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2), Catch::Contains("trials"));
}

TEST_CASE("make_cnn builds blocks of several convolutions with block dropout and batch-normalised dense layers",
          "[nn][random_search]") {
    // The published best of the tuned-CNN study, as a CnnConfig, is the "deep" architecture.
    CnnConfig c = architectures::deep_config();
    auto built = architectures::make_cnn<float>(c, 7);
    auto deep = architectures::make<float>("deep");
    REQUIRE(built.size() == deep.model.size());
    for (std::size_t i = 0; i < built.size(); ++i) {
        INFO("layer " << i);
        CHECK(built.layer(i).type() == deep.model.layer(i).type());
        CHECK(built.layer(i).describe() == deep.model.layer(i).describe());
    }
    // The published layout, written out here rather than taken from either builder:
    // 4 x [Conv, BN, Conv, BN, MaxPool, Dropout 0.2] of 32, 128, 128, 32 filters, then
    // Flatten, Dense(64), BN, Dropout 0.5, Dense(7); Adam 5e-4, batch 256.
    std::vector<std::string> expected;
    for (int block = 0; block < 4; ++block)
        for (const char* t : {"Conv2D", "BatchNorm", "Conv2D", "BatchNorm", "MaxPool2D", "Dropout"}) expected.push_back(t);
    for (const char* t : {"Flatten", "Dense", "BatchNorm", "Dropout", "Dense"}) expected.push_back(t);
    REQUIRE(deep.model.size() == expected.size());
    std::vector<Index> conv_filters;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("layer " << i);
        CHECK(deep.model.layer(i).type() == expected[i]);
        if (const auto* conv = dynamic_cast<const Conv2D<float>*>(&deep.model.layer(i)))
            conv_filters.push_back(conv->config().filters);
    }
    CHECK(conv_filters == std::vector<Index>{32, 32, 128, 128, 128, 128, 32, 32});
    CHECK(deep.batch_size == 256);
    CHECK(deep.learning_rate == 5e-4);

    CHECK(built.build({1, 48, 48}, 0) == Shape{7, 1, 1});
    deep.model.build({1, 48, 48}, 0);
    CHECK(built.parameter_count() == deep.model.parameter_count());
    CHECK_THAT(c.describe(), Catch::Contains("x2 per block") && Catch::Contains("dropout 0.2") && Catch::Contains("64 bn"));

    // The defaults keep the plain block: Conv, BatchNorm, MaxPool per block, no dropout.
    auto plain = architectures::make_cnn<float>(CnnConfig{}, 3);
    CHECK(plain.layer(0).type() == "Conv2D");
    CHECK(plain.layer(1).type() == "BatchNorm");
    CHECK(plain.layer(2).type() == "MaxPool2D");
    CHECK(plain.layer(3).type() == "Conv2D");

    // Every BatchNorm gets the configured momentum (Keras' 0.99 unless told).
    c.batch_norm_momentum = 0.9;
    auto fast_bn = architectures::make_cnn<float>(c, 7);
    int batch_norms = 0;
    for (std::size_t i = 0; i < fast_bn.size(); ++i) {
        if (fast_bn.layer(i).type() != "BatchNorm") continue;
        ++batch_norms;
        CHECK_THAT(fast_bn.layer(i).describe(), Catch::Contains("momentum 0.9,"));
    }
    CHECK(batch_norms == 9);  // 4 blocks x 2 convolutions + the dense layer
    CHECK_THAT(c.describe(), Catch::Contains("bn momentum 0.9"));
    c.batch_norm_momentum = 1.5;
    CHECK_THROWS_WITH(architectures::make_cnn<float>(c, 7), Catch::Contains("batch_norm_momentum 1.5"));
    c.batch_norm_momentum = 0.99;

    c.convs_per_block = 0;
    CHECK_THROWS_WITH(architectures::make_cnn<float>(c, 7), Catch::Contains("convs_per_block"));
    c.convs_per_block = 2;
    c.block_dropout = 1.0;
    CHECK_THROWS_WITH(architectures::make_cnn<float>(c, 7), Catch::Contains("block_dropout"));
}

TEST_CASE("Random search draws the block shape from its space without changing the other draws",
          "[nn][random_search]") {
    RandomSearch<float>::Config config;
    config.seed = 11;
    const RandomSearch<float> plain(config);
    config.space.convs_per_block = {2, 3};
    config.space.block_dropout = {0.2};
    config.space.dense_batch_norm = {true};
    const RandomSearch<float> shaped(config);
    for (int t = 0; t < 6; ++t) {
        const CnnConfig a = plain.draw(t), b = shaped.draw(t);
        CHECK(a.convs_per_block == 1);
        CHECK(a.block_dropout == 0.0);
        CHECK(!a.dense_batch_norm);
        CHECK((b.convs_per_block == 2 || b.convs_per_block == 3));
        CHECK(b.block_dropout == 0.2);
        CHECK(b.dense_batch_norm);
        // Everything drawn before the block shape is the same as without it.
        CHECK(a.filters == b.filters);
        CHECK(a.kernel_size == b.kernel_size);
        CHECK(a.dense_units == b.dense_units);
        CHECK(a.batch_size == b.batch_size);
        CHECK(a.learning_rate == b.learning_rate);
    }
    Matrix<float> X;
    Labels y;
    halves(40, X, y);
    config.space.convs_per_block = {0};
    CHECK_THROWS_WITH(RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2), Catch::Contains("convs_per_block"));
    config.space.convs_per_block = {1};
    config.space.block_dropout = {1.5};
    CHECK_THROWS_WITH(RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2), Catch::Contains("block_dropout"));
}

namespace {
void write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}
}  // namespace

TEST_CASE("An interrupted random search resumes from its journal and returns the uninterrupted result",
          "[nn][random_search][journal]") {
    Matrix<float> X;
    Labels y;
    halves(80, X, y);
    const auto journal = feral::test::scratch_dir("search_journal") / "resume.journal";
    const SearchResult whole = RandomSearch<float>(small_search(3)).run(X, y, {1, 8, 8}, 2);

    auto config = small_search(2);  // "interrupted" after two trials
    config.journal = journal.string();
    const SearchResult first_two = RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2);
    for (const Trial& t : first_two.trials) CHECK_FALSE(t.resumed);

    config.trials = 3;  // resumed: trials 1 and 2 come from the journal, trial 3 is trained
    const SearchResult resumed = RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2);
    REQUIRE(resumed.trials.size() == 3);
    CHECK(resumed.trials[0].resumed);
    CHECK(resumed.trials[1].resumed);
    CHECK_FALSE(resumed.trials[2].resumed);
    CHECK(resumed.trials[0].seconds == first_two.trials[0].seconds);  // as recorded, not re-measured
    for (std::size_t t = 0; t < 3; ++t) {
        INFO("trial " << t + 1);
        CHECK(resumed.trials[t].config.describe() == whole.trials[t].config.describe());
        CHECK(resumed.trials[t].val_accuracy == whole.trials[t].val_accuracy);  // bit for bit
        CHECK(resumed.trials[t].val_loss == whole.trials[t].val_loss);
        CHECK(resumed.trials[t].train_accuracy == whole.trials[t].train_accuracy);
        CHECK(resumed.trials[t].parameters == whole.trials[t].parameters);
    }
    CHECK(resumed.best_index == whole.best_index);

    // Everything is in the journal now: a rerun trains nothing and appends nothing.
    const std::string before = file_text(journal);
    const SearchResult again = RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2);
    for (const Trial& t : again.trials) CHECK(t.resumed);
    CHECK(file_text(journal) == before);
    CHECK(std::count(before.begin(), before.end(), '\n') == 5 + 3);  // header, column names, 3 trials
    CHECK(before.starts_with("feral random-search journal v1\nsearch seed 9, 1 epochs per trial, validation 0.25"));
}

TEST_CASE("A random search refuses a journal of another search or a damaged one, and leaves it as it was",
          "[nn][random_search][journal]") {
    Matrix<float> X;
    Labels y;
    halves(80, X, y);
    const auto dir = feral::test::scratch_dir("search_journal_refused");
    const auto journal = dir / "search.journal";
    auto config = small_search(1);
    config.journal = journal.string();
    (void)RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2);
    const std::string good = file_text(journal);
    std::string expected = good;  // what the file must still hold after the refused runs
    auto replace_journal = [&](std::string text) {
        expected = std::move(text);
        write(journal, expected);
    };

    auto refused = [&](const RandomSearch<float>::Config& c, const Matrix<float>& data) {
        return RandomSearch<float>(c).run(data, y, {1, 8, 8}, 2);
    };
    SECTION("another seed") {
        auto other = config;
        other.seed = 10;
        CHECK_THROWS_AS(refused(other, X), feral::invalid_argument);
        CHECK_THROWS_WITH(refused(other, X), Catch::Contains(journal.string()) && Catch::Contains("line 2") &&
                                                 Catch::Contains("seed 10") && Catch::Contains("seed 9"));
    }
    SECTION("another space") {
        auto other = config;
        other.space.filters = {4, 16};
        CHECK_THROWS_AS(refused(other, X), feral::invalid_argument);
        CHECK_THROWS_WITH(refused(other, X), Catch::Contains("line 3") && Catch::Contains("filters {4,16}"));
    }
    SECTION("other images") {
        Matrix<float> changed = X;
        changed(7, 3) += 0.5f;
        CHECK_THROWS_AS(refused(config, changed), feral::invalid_argument);
        CHECK_THROWS_WITH(refused(config, changed), Catch::Contains("line 4") && Catch::Contains("checksum"));
    }
    SECTION("the same pixels read as another image shape") {
        CHECK_THROWS_WITH(RandomSearch<float>(config).run(X, y, {4, 4, 4}, 2),
                          Catch::Contains("line 4") && Catch::Contains("as 4x4x4"));
    }
    SECTION("a trial line cut short by an interrupted write") {
        replace_journal(good + "trial 2\t0.5");
        CHECK_THROWS_AS(refused(config, X), feral::format_error);
        CHECK_THROWS_WITH(refused(config, X), Catch::Contains("incomplete"));
    }
    SECTION("a malformed trial line") {
        replace_journal(good + "trial 2\t0.5\tlow\t0.5\t10\t1\tconv 4\n");
        CHECK_THROWS_AS(refused(config, X), feral::format_error);
        CHECK_THROWS_WITH(refused(config, X), Catch::Contains("line 7") && Catch::Contains("val_loss"));
    }
    SECTION("a trial recorded twice") {
        const std::string trial_line = good.substr(good.rfind("trial 1\t"));
        replace_journal(good + trial_line);
        CHECK_THROWS_WITH(refused(config, X), Catch::Contains("line 7") && Catch::Contains("a second time"));
    }
    SECTION("an edited configuration") {
        std::string edited = good;
        const auto at = edited.rfind("\tconv ");
        edited.replace(at, 6, "\tconv 999 ");
        replace_journal(edited);
        CHECK_THROWS_WITH(refused(config, X), Catch::Contains("records trial 1 as 'conv 999"));
    }
    SECTION("a file that is not a journal, even one without a last newline") {
        replace_journal("emotion,pixels,Usage\n0,1 2 3,Training");
        CHECK_THROWS_AS(refused(config, X), feral::format_error);
        CHECK_THROWS_WITH(refused(config, X), Catch::Contains("not a feral search journal"));
    }
    SECTION("a header cut short") {
        replace_journal(good.substr(0, good.find("space ")));
        CHECK_THROWS_AS(refused(config, X), feral::format_error);
        CHECK_THROWS_WITH(refused(config, X), Catch::Contains("header ends at line 2"));
    }
    SECTION("a trial line with an impossible value") {
        replace_journal(good + "trial 2\t0.5\t0.7\t0.5\t-10\t1\tconv 4\n");
        CHECK_THROWS_WITH(refused(config, X), Catch::Contains("line 7") && Catch::Contains("parameters must be >= 0"));
    }
    SECTION("labels that do not fit the classes, found before the journal is touched") {
        CHECK_THROWS_WITH(RandomSearch<float>(config).run(X, y, {1, 8, 8}, 1), Catch::Contains("classes must be >= 2"));
        auto elsewhere = config;
        elsewhere.journal = (dir / "never.journal").string();
        Labels too_high = y;
        too_high[3] = 2;
        CHECK_THROWS_WITH(RandomSearch<float>(elsewhere).run(X, too_high, {1, 8, 8}, 2),
                          Catch::Contains("label 2") && Catch::Contains("classes = 2"));
        CHECK_FALSE(std::filesystem::exists(dir / "never.journal"));
    }
    SECTION("a directory in place of the file") {
        auto directory = config;
        directory.journal = dir.string();
        CHECK_THROWS_AS(refused(directory, X), feral::invalid_argument);
        CHECK_THROWS_WITH(refused(directory, X), Catch::Contains("not a regular file"));
    }
    // Refusing never rewrites: the file holds what it held before the refused runs.
    CHECK(file_text(journal) == expected);
}

TEST_CASE("A random search journal starts in an empty file, resumes a header-only one, and keeps diverged trials",
          "[nn][random_search][journal]") {
    Matrix<float> X;
    Labels y;
    halves(80, X, y);
    const auto dir = feral::test::scratch_dir("search_journal_edges");
    auto config = small_search(2);

    // An empty file (a user's `touch`) is a new journal; so is a run killed before any
    // trial finished, which leaves only the header.
    config.journal = (dir / "empty.journal").string();
    write(config.journal, "");
    const SearchResult from_empty = RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2);
    const std::string full = file_text(config.journal);
    write(config.journal, full.substr(0, full.find("trial 1\t")));
    const SearchResult from_header = RandomSearch<float>(config).run(X, y, {1, 8, 8}, 2);
    for (const Trial& t : from_header.trials) CHECK_FALSE(t.resumed);
    CHECK(from_header.trials[1].val_loss == from_empty.trials[1].val_loss);
    CHECK(file_text(config.journal).substr(0, 40) == full.substr(0, 40));

    // A configuration that diverges is kept, scored 0 with loss inf, and read back as such.
    auto wild = small_search(1);
    wild.space.learning_rates = {1e30};
    wild.space.batch_norm = {false};
    wild.space.dense_layers = {1};
    wild.journal = (dir / "wild.journal").string();
    const SearchResult diverged = RandomSearch<float>(wild).run(X, y, {1, 8, 8}, 2);
    REQUIRE(diverged.trials.size() == 1);
    CHECK(diverged.trials[0].diverged);
    CHECK(diverged.trials[0].val_accuracy == 0.0);
    CHECK(std::isinf(diverged.trials[0].val_loss));
    CHECK_THAT(file_text(wild.journal), Catch::Contains("trial 1\t0\tinf\t0\t"));
    const SearchResult read_back = RandomSearch<float>(wild).run(X, y, {1, 8, 8}, 2);
    CHECK(read_back.trials[0].resumed);
    CHECK(read_back.trials[0].diverged);
}
