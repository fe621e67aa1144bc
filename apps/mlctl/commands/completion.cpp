// `mlctl completion bash|zsh`: a completion script generated from the
// command tree, so it always matches the binary that prints it.
#include <fmt/format.h>

#include <iostream>
#include <map>

#include <mlctl/core/error.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

// Command path ("mlctl", "mlctl run", ...) -> the words that may follow it.
// (bash associative arrays refuse an empty key, hence the root name.)
void collect(const CLI::App* app, const std::string& path, std::map<std::string, std::string>& words) {
  std::string& list = words[path];
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App* candidate) {
         return !candidate->get_group().empty();
       })) {
    list += sub->get_name() + " ";
    collect(sub, path + " " + sub->get_name(), words);
  }
  for (const CLI::Option* option : app->get_options()) {
    for (const auto& name : option->get_lnames()) list += "--" + name + " ";
    for (const auto& name : option->get_snames()) list += "-" + name + " ";
  }
  if (!list.empty()) list.pop_back();
}

std::string bash_script(const CLI::App& root) {
  std::map<std::string, std::string> words;
  collect(&root, root.get_name(), words);
  std::string table;
  for (const auto& [path, list] : words) table += fmt::format("  [\"{}\"]=\"{}\"\n", path, list);
  return fmt::format(R"(# mlctl completion for bash. Load it with:
#   source <(mlctl completion bash)
_mlctl_complete() {{
  local -A words=(
{}  )
  local path="mlctl" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${{COMP_WORDS[i]}}"
    [[ "$word" == -* ]] && continue
    [[ -n "${{words["$path $word"]+set}}" ]] && path="$path $word"
  done
  local current="${{COMP_WORDS[COMP_CWORD]}}"
  case "${{COMP_WORDS[COMP_CWORD-1]}}" in
    -o|--output) COMPREPLY=($(compgen -W "table json yaml tsv markdown" -- "$current")); return ;;
    -f|--file|--dest|--artifact|--project) COMPREPLY=($(compgen -f -- "$current")); return ;;
  esac
  COMPREPLY=($(compgen -W "${{words[$path]}}" -- "$current"))
}}
complete -F _mlctl_complete mlctl
)",
                     table);
}

}  // namespace

void register_completion_command(CLI::App& app, CommandEnv& env) {
  auto shell = std::make_shared<std::string>();
  auto* command = app.add_subcommand("completion", "Print a shell completion script (bash or zsh)");
  command->add_option("shell", *shell, "bash or zsh")->required();
  set_examples(*command,
               "source <(mlctl completion bash)          # in ~/.bashrc\n"
               "  source <(mlctl completion zsh)           # in ~/.zshrc");
  command->callback([&app, shell] {
    if (*shell == "bash") {
      std::cout << bash_script(app);
    } else if (*shell == "zsh") {
      // zsh runs bash completion functions through bashcompinit.
      std::cout << "# mlctl completion for zsh. Load it with: source <(mlctl completion zsh)\n"
                   "autoload -U +X bashcompinit && bashcompinit\n"
                << bash_script(app);
    } else {
      throw Error(ErrorKind::invalid_argument, fmt::format("unknown shell '{}' (expected bash or zsh)", *shell));
    }
  });
}

}  // namespace mlctl::cli
