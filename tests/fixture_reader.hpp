// Reads the text fixtures written by tools/fixtures/fixture_io.py.
//
// Format: a sequence of named arrays, each
//     <name> <rows> <cols>
//     <rows*cols whitespace-separated numbers, row-major>
// plus optional string entries
//     <name> str
//     <one line of text, with \n escaped as \\n>
// Lines starting with '#' are comments. Numbers are written with 17 significant
// digits (round-trip exact for doubles).
#pragma once

#include <Eigen/Core>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace feral::test {

class Fixture {
public:
    explicit Fixture(const std::filesystem::path& path) : path_(path) {
        std::ifstream in(path);
        if (!in) throw std::runtime_error("cannot open fixture " + path.string() + " (run tools/fixtures/*.py)");
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream header(line);
            std::string name, kind;
            header >> name >> kind;
            if (kind == "str") {
                std::string text;
                std::getline(in, text);
                std::string unescaped;
                for (std::size_t i = 0; i < text.size(); ++i) {
                    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
                        unescaped += '\n';
                        ++i;
                    } else if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') {
                        unescaped += '\\';
                        ++i;
                    } else {
                        unescaped += text[i];
                    }
                }
                strings_[name] = unescaped;
                continue;
            }
            const long rows = std::stol(kind);
            long cols = 0;
            header >> cols;
            Eigen::MatrixXd m(rows, cols);
            for (long i = 0; i < rows; ++i)
                for (long j = 0; j < cols; ++j)
                    if (!(in >> m(i, j)))
                        throw std::runtime_error("fixture " + path.string() + ": array '" + name + "' is truncated");
            arrays_[name] = m;
            std::getline(in, line);  // rest of the last value line
        }
    }

    /// A named array as a double matrix (rows x cols).
    [[nodiscard]] const Eigen::MatrixXd& matrix(const std::string& name) const {
        auto it = arrays_.find(name);
        if (it == arrays_.end()) throw std::runtime_error("fixture " + path_.string() + " has no array '" + name + "'");
        return it->second;
    }

    /// A named array converted to a row-major matrix of T.
    template <class T>
    [[nodiscard]] Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> as(const std::string& name) const {
        return matrix(name).cast<T>();
    }

    /// A named array flattened to an integer label vector.
    [[nodiscard]] Eigen::VectorXi labels(const std::string& name) const {
        const auto& m = matrix(name);
        Eigen::VectorXi v(m.size());
        for (Eigen::Index i = 0; i < m.size(); ++i) v[i] = static_cast<int>(m.data()[i]);  // column-major flatten
        if (m.rows() != 1 && m.cols() != 1) throw std::runtime_error("fixture array '" + name + "' is not a vector");
        return v;
    }

    /// A named scalar (a 1x1 array).
    [[nodiscard]] double scalar(const std::string& name) const { return matrix(name)(0, 0); }

    [[nodiscard]] const std::string& text(const std::string& name) const {
        auto it = strings_.find(name);
        if (it == strings_.end()) throw std::runtime_error("fixture " + path_.string() + " has no string '" + name + "'");
        return it->second;
    }

    [[nodiscard]] bool has(const std::string& name) const { return arrays_.count(name) || strings_.count(name); }

private:
    std::filesystem::path path_;
    std::map<std::string, Eigen::MatrixXd> arrays_;
    std::map<std::string, std::string> strings_;
};

}  // namespace feral::test
