#include "resp/inline_args.h"

#include <cstring>

namespace sy::resp {
namespace {

// isspace() in the C locale, without the locale lookup.
bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Ends an unquoted argument. Note that '\v' and '\f' do not (sdssplitargs quirk).
bool endsBareWord(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// Copies a double-quoted section starting after its opening quote at line[i] into `storage`.
// Returns the index just past the closing quote, or npos if the quote is not closed properly.
size_t readDoubleQuoted(std::string_view line, size_t i, std::string& storage) {
  const size_t n = line.size();
  while (i < n) {
    char c = line[i];
    if (c == '"') {
      if (i + 1 < n && !isBlank(line[i + 1])) return std::string_view::npos;
      return i + 1;
    }
    if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && hexValue(line[i + 2]) >= 0 &&
        hexValue(line[i + 3]) >= 0) {
      storage.push_back(static_cast<char>(hexValue(line[i + 2]) * 16 + hexValue(line[i + 3])));
      i += 4;
    } else if (c == '\\' && i + 1 < n) {
      storage.push_back(unescape(line[i + 1]));
      i += 2;
    } else {
      storage.push_back(c);
      ++i;
    }
  }
  return std::string_view::npos;
}

// As readDoubleQuoted, for a single-quoted section: only \' is an escape.
size_t readSingleQuoted(std::string_view line, size_t i, std::string& storage) {
  const size_t n = line.size();
  while (i < n) {
    char c = line[i];
    if (c == '\'') {
      if (i + 1 < n && !isBlank(line[i + 1])) return std::string_view::npos;
      return i + 1;
    }
    if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
      storage.push_back('\'');
      i += 2;
    } else {
      storage.push_back(c);
      ++i;
    }
  }
  return std::string_view::npos;
}

// Reads one argument that contains a quote, starting at line[start], into `storage`.
// Returns the index after it, or npos on unbalanced quotes.
size_t readQuotedArg(std::string_view line, size_t start, std::string& storage) {
  size_t i = start;
  while (i < line.size() && !endsBareWord(line[i])) {
    char c = line[i];
    if (c == '"' || c == '\'') {
      i = c == '"' ? readDoubleQuoted(line, i + 1, storage)
                   : readSingleQuoted(line, i + 1, storage);
      // A closing quote is followed by a separator or the end: the argument ends here.
      return i;
    }
    storage.push_back(c);
    ++i;
  }
  return i;
}

}  // namespace

bool splitInlineArgs(std::string_view line, std::vector<std::string_view>& args,
                     std::string& storage) {
  args.clear();
  storage.clear();
  if (const void* nul = std::memchr(line.data(), '\0', line.size())) {
    line = line.substr(0, static_cast<size_t>(static_cast<const char*>(nul) - line.data()));
  }
  storage.reserve(line.size());  // unquoting never lengthens: views into storage stay valid
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && isBlank(line[i])) ++i;
    if (i == n) return true;
    size_t start = i;
    while (i < n && !endsBareWord(line[i]) && line[i] != '"' && line[i] != '\'') ++i;
    if (i == n || endsBareWord(line[i])) {
      args.push_back(line.substr(start, i - start));
      continue;
    }
    size_t from = storage.size();
    i = readQuotedArg(line, start, storage);
    if (i == std::string_view::npos) return false;
    args.push_back(std::string_view(storage).substr(from));
  }
}

}  // namespace sy::resp
