#include "broker/client/internal/fastjson.h"

#include <vector>

namespace fmq::client::internal {
namespace {

// Copies a JSON string starting at text[i] == '"' to out; returns the index after the closing quote.
size_t CopyString(std::string_view text, size_t i, std::string* out) {
  out->push_back(text[i++]);
  while (i < text.size()) {
    char c = text[i++];
    out->push_back(c);
    if (c == '\\' && i < text.size()) {
      out->push_back(text[i++]);
    } else if (c == '"') {
      break;
    }
  }
  return i;
}

// Index after the balanced {...} or [...] starting at text[i].
size_t SkipBalanced(std::string_view text, size_t i) {
  int depth = 0;
  bool in_string = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return text.size();
}

void AppendQuoted(std::string_view raw, std::string* out) {
  out->push_back('"');
  for (char c : raw) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::string NormalizeFastJson(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  struct Frame {
    bool object;
    bool expect_key;
  };
  std::vector<Frame> stack;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (IsSpace(c)) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (!stack.empty() && stack.back().object && stack.back().expect_key && c != '"' && c != '}') {
      // A key that is not a string: an object key or a bare number/word.
      size_t end;
      if (c == '{' || c == '[') {
        end = SkipBalanced(text, i);
      } else {
        end = i;
        while (end < text.size() && text[end] != ':' && !IsSpace(text[end])) ++end;
      }
      AppendQuoted(text.substr(i, end - i), &out);
      stack.back().expect_key = false;
      i = end;
      continue;
    }
    switch (c) {
      case '"':
        if (!stack.empty() && stack.back().object) stack.back().expect_key = false;
        i = CopyString(text, i, &out);
        continue;
      case '{':
        stack.push_back({true, true});
        break;
      case '[':
        stack.push_back({false, false});
        break;
      case '}':
      case ']':
        if (!stack.empty()) stack.pop_back();
        break;
      case ',':
        if (!stack.empty() && stack.back().object) stack.back().expect_key = true;
        break;
      default:
        break;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace fmq::client::internal
