#include <feral/core/serialize.hpp>

#include <catch2/catch.hpp>

#include "test_support.hpp"

#include <fstream>

namespace {
std::vector<unsigned char> read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_all(const std::filesystem::path& p, const std::vector<unsigned char>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
std::filesystem::path saved_model(const std::filesystem::path& dir) {
    feral::ByteWriter w;
    w.write<std::int32_t>(7);
    w.write_string("hello");
    feral::Matrix<float> m(2, 3);
    m << 1, 2, 3, 4, 5, 6;
    w.write_matrix(m);
    w.write_vector(std::vector<double>{0.5, 1.5});
    w.write_strings({"angry", "happy"});
    feral::Vector<double> v(3);
    v << 9, 8, 7;
    w.write_matrix(v);
    auto path = dir / "model.feral";
    feral::write_container(path, "Test<float>", 3, w.bytes());
    return path;
}
}  // namespace

TEST_CASE("A container round-trips values, strings, vectors and matrices", "[core][serialize]") {
    auto path = saved_model(feral::test::scratch_dir("serialize_roundtrip"));
    auto c = feral::read_container(path, "Test<float>");
    CHECK(c.type_tag() == "Test<float>");
    CHECK(c.payload_version() == 3);
    auto r = c.reader();
    CHECK(r.read<std::int32_t>() == 7);
    CHECK(r.read_string() == "hello");
    auto m = r.read_matrix<feral::Matrix<float>>();
    REQUIRE(m.rows() == 2);
    REQUIRE(m.cols() == 3);
    CHECK(m(1, 2) == 6.0f);
    CHECK(r.read_vector<double>() == std::vector<double>{0.5, 1.5});
    CHECK(r.read_strings() == std::vector<std::string>{"angry", "happy"});
    auto v = r.read_matrix<feral::Vector<double>>();
    CHECK(v.size() == 3);
    CHECK(v[2] == 7.0);
    r.expect_end();
}

TEST_CASE("Saving refuses to overwrite an existing file unless asked", "[core][serialize]") {
    auto dir = feral::test::scratch_dir("serialize_overwrite");
    auto path = saved_model(dir);
    const auto before = read_all(path);
    CHECK_THROWS_AS(feral::write_container(path, "Other", 1, {1, 2, 3}), feral::io_error);
    CHECK(read_all(path) == before);
    feral::write_container(path, "Other", 1, {1, 2, 3}, feral::Overwrite::yes);
    CHECK(feral::read_container(path).type_tag() == "Other");
}

TEST_CASE("A model file of another type is reported with both type names", "[core][serialize]") {
    auto path = saved_model(feral::test::scratch_dir("serialize_type"));
    CHECK_THROWS_WITH(feral::read_container(path, "GaussianNB<float>"),
                      Catch::Contains("Test<float>") && Catch::Contains("GaussianNB<float>"));
}

TEST_CASE("Truncated, corrupted and foreign files are format errors naming the file", "[core][serialize]") {
    auto dir = feral::test::scratch_dir("serialize_corrupt");
    auto path = saved_model(dir);
    const auto good = read_all(path);

    SECTION("every truncation is caught") {
        for (std::size_t keep : {std::size_t{0}, std::size_t{5}, std::size_t{20}, good.size() / 2, good.size() - 1}) {
            write_all(path, std::vector<unsigned char>(good.begin(), good.begin() + static_cast<long>(keep)));
            CHECK_THROWS_AS(feral::read_container(path), feral::format_error);
        }
    }
    SECTION("a flipped byte anywhere is caught") {
        for (std::size_t at = 0; at < good.size(); at += 3) {
            auto bad = good;
            bad[at] ^= 0x40;
            write_all(path, bad);
            CHECK_THROWS_AS(feral::read_container(path), feral::format_error);
        }
    }
    SECTION("a text file is not a model") {
        write_all(path, {'h', 'e', 'l', 'l', 'o', '\n', 'w', 'o', 'r', 'l', 'd', '\n'});
        CHECK_THROWS_WITH(feral::read_container(path), Catch::Contains(path.string()) && Catch::Contains("not a feral model"));
    }
    SECTION("a missing file is an io_error") {
        CHECK_THROWS_AS(feral::read_container(dir / "missing.feral"), feral::io_error);
    }
}

TEST_CASE("Reading past the payload end is a format error", "[core][serialize]") {
    feral::ByteWriter w;
    w.write<std::int32_t>(1);
    feral::ByteReader r(w.bytes().data(), w.bytes().size(), "mem");
    (void)r.read<std::int32_t>();
    CHECK_THROWS_AS(r.read<double>(), feral::format_error);
    feral::ByteReader r2(w.bytes().data(), w.bytes().size(), "mem");
    CHECK_THROWS_AS(r2.expect_end(), feral::format_error);
}

TEST_CASE("A list of matrices round-trips, and a count its bytes cannot hold is a format error", "[core][serialize]") {
    feral::Matrix<float> a(2, 3), b(1, 1);
    a << 1, 2, 3, 4, 5, 6;
    b << 7;
    feral::ByteWriter w;
    w.write_matrices(std::vector<feral::Matrix<float>>{a, b});
    w.write_matrices(std::vector<feral::Matrix<float>>{});
    feral::ByteReader r(w.bytes().data(), w.bytes().size(), "list.bin");
    const auto read = r.read_matrices<feral::Matrix<float>>();
    REQUIRE(read.size() == 2);
    CHECK(read[0] == a);
    CHECK(read[1] == b);
    CHECK(r.read_matrices<feral::Matrix<float>>().empty());
    r.expect_end();

    feral::ByteWriter corrupt;  // claims a million matrices, holds none: refused before allocating
    corrupt.write<std::uint64_t>(1000000);
    corrupt.write<std::int64_t>(0);
    auto read_corrupt = [&] {
        feral::ByteReader c(corrupt.bytes().data(), corrupt.bytes().size(), "list.bin");
        return c.read_matrices<feral::Matrix<float>>();
    };
    CHECK_THROWS_FERAL(read_corrupt(), feral::format_error, "list.bin: corrupt length 1000000");
}
