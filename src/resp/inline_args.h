// Splitting of an inline command line into arguments, as Redis does it (sdssplitargs in sds.c).
// Pure function; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sy::resp {

// Splits `line` (without its line ending) into `args`, which is cleared first.
//  - Arguments are separated by runs of ' ', '\t', '\n', '\r', '\v', '\f'; a NUL byte ends the
//    line (Redis reads it as a C string).
//  - "double quotes" understand \n \r \t \b \a, \xHH and \<any other byte> (that byte);
//    'single quotes' understand only \'. A quote may open in the middle of an argument, but a
//    closing quote must be followed by a separator or the end of the line.
// An argument without quotes is a view into `line`; one with quotes is unquoted into `storage`
// (cleared first, and reserved so that it never reallocates while `args` point into it).
// Returns false on an unterminated quote or a closing quote followed by something else.
bool splitInlineArgs(std::string_view line, std::vector<std::string_view>& args,
                     std::string& storage);

}  // namespace sy::resp
