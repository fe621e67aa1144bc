#pragma once

#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace mlctl {

// Parses one YAML document. An empty text gives a null node. `source_name`
// (usually the file name) only prefixes messages.
// Throws Error(parse) "SOURCE:LINE:COL: <yaml-cpp message>" (1-based) for
// malformed YAML, and "SOURCE:LINE:COL: expected a single YAML document, found
// another one here" at the start of a second document. No yaml-cpp exception
// escapes.
YAML::Node load_yaml(std::string_view text, std::string_view source_name);

// "SOURCE:LINE:COL" (1-based) for a position yaml-cpp recorded, or "SOURCE"
// alone for a null mark: nodes built in code, such as values set by
// apply_override, have no place in the file. An empty source gives
// "LINE:COL". Throws nothing but std::bad_alloc.
std::string yaml_location(std::string_view source_name, const YAML::Mark& mark);

// True for a missing key's node and for an explicit null (`key:`).
bool is_absent(const YAML::Node& node);

// A node as a diagnostic shows it: "a map", "a sequence", the scalar in
// quotes ('abc'), or "nothing".
std::string describe(const YAML::Node& node);

// Applies one az-style `--set PATH=VALUE` assignment to `root` in place.
//
// PATH is dotted (`model.optimizer.lr`). Missing maps along it are created,
// so `--set tags.team=vision` works on a job without tags. A sequence item
// is `a.b[0]` or `a.b.0`; the second form indexes only where the node is a
// sequence, and is a map key ("0") elsewhere. Index == size appends.
//
// VALUE (split at the first '=') is read as YAML: `[64, 32]` gives a
// sequence, `{a: 1}` a map, `"x y"` the string x y, an empty value null.
// Plain text is kept as written, though: `run #3` stays "run #3" and
// `echo a: b` stays a string, because YAML would silently drop a comment or
// turn the text into a map, which is never what a command line meant.
// Set values carry no source position (see yaml_location).
//
// Throws Error(invalid_argument) naming `source_name` and the assignment for
// a missing '=', an empty or malformed path, a path through a scalar, an
// index into a map or out of range; Error(parse) for a VALUE that starts like
// YAML (`[`, `{`, a quote...) but does not parse. On a throw `root` may hold
// the maps created before the bad step, never a half-written value.
void apply_override(YAML::Node& root, std::string_view assignment,
                    std::string_view source_name = "--set");

}  // namespace mlctl
