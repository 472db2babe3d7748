// Word count: the "hello, world" of stream processing.
//
// Reads a text file (argv[1], or a small sample text), splits its lines into lower-case words,
// keeps a running count per word, and prints the final counts, most frequent first.
//
//   build/release/examples/word_count [file, directory or glob]
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "sluice/sluice.h"

struct WordCount {
  std::string word;
  int64_t count = 0;
};

int main(int argc, char** argv) {
  const std::string input = argc > 1 ? argv[1] : SLUICE_EXAMPLE_DATA "/words.txt";

  sluice::Environment env;
  std::vector<WordCount> updates;
  sluice::read_text(env, input)
      .flat_map<std::string>([](const std::string& line, sluice::Collector<std::string>& out) {
        std::string word;
        auto end_word = [&] {
          if (!word.empty()) out.emit(word);
          word.clear();
        };
        for (unsigned char c : line) {
          if (std::isalnum(c)) {
            word += static_cast<char>(std::tolower(c));
          } else {
            end_word();
          }
        }
        end_word();
      })
      .key_by([](const std::string& word) { return word; })
      .aggregate(
          int64_t{0}, [](int64_t& count, const std::string&) { ++count; },
          [](const std::string& word, int64_t count) {
            return WordCount{word, count};
          })
      .sink(sluice::sinks::collect(&updates));

  sluice::Status status = env.execute("word count");
  if (!status.is_ok()) {
    std::fprintf(stderr, "word_count: %s\n", status.message().c_str());
    return 1;
  }

  // The running count emits an update per word seen; a word's final count is its largest.
  std::map<std::string, int64_t> final_counts;
  for (const WordCount& u : updates) {
    final_counts[u.word] = std::max(final_counts[u.word], u.count);
  }
  std::vector<WordCount> sorted;
  for (const auto& [word, count] : final_counts) sorted.push_back({word, count});
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const WordCount& a, const WordCount& b) { return a.count > b.count; });
  for (const WordCount& w : sorted) std::printf("%6lld %s\n", (long long)w.count, w.word.c_str());
  return 0;
}
