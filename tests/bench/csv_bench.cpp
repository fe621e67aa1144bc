// Reading speed of mlctl's CSV code, in process: see README.md and
// bench_csv.py, which runs pandas on the same file side by side.
//
//   mlctl_csv_bench FILE REPEATS
//     prints one JSON line: the file's size, rows and columns, and the
//     median seconds of reading the file into memory, parsing it
//     (parse_csv), parsing its numbers (column_as_numbers, every column),
//     inferring the schema and profiling every column.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/json.hpp>
#include <mlctl/data/column_profile.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/data/table_schema.hpp>

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: mlctl_csv_bench FILE REPEATS\n");
    return 2;
  }
  try {
    const std::string path = argv[1];
    const int repeats = std::max(1, std::atoi(argv[2]));
    std::vector<double> read_times, parse_times, number_times, schema_times, profile_times;
    mlctl::Json facts;
    for (int i = 0; i < repeats; ++i) {
      auto start = std::chrono::steady_clock::now();
      std::string text = mlctl::read_file(path);
      read_times.push_back(seconds_since(start));

      start = std::chrono::steady_clock::now();
      mlctl::data::CsvTable table = mlctl::data::parse_csv(text, path);
      parse_times.push_back(seconds_since(start));

      start = std::chrono::steady_clock::now();
      double checksum = 0;
      for (std::size_t column = 0; column < table.column_count(); ++column) {
        for (double value : mlctl::data::column_as_numbers(table, column)) checksum += value;
      }
      number_times.push_back(seconds_since(start));

      start = std::chrono::steady_clock::now();
      mlctl::data::TableSchema schema = mlctl::data::infer_schema(table);
      schema_times.push_back(seconds_since(start));

      start = std::chrono::steady_clock::now();
      mlctl::Json profile = mlctl::data::profile_table(table, schema);
      profile_times.push_back(seconds_since(start));

      facts = {{"bytes", text.size()}, {"rows", table.row_count()}, {"columns", table.column_count()},
               {"checksum", checksum}};
    }
    facts["read_seconds"] = median(read_times);
    facts["parse_seconds"] = median(parse_times);
    facts["numbers_seconds"] = median(number_times);
    facts["schema_seconds"] = median(schema_times);
    facts["profile_seconds"] = median(profile_times);
    std::printf("%s\n", facts.dump().c_str());
    return 0;
  } catch (const mlctl::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
